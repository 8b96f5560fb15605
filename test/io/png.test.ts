import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/io/errors.js';
import { NAN_COLOR, colormap, decodePng, heatmapPng, imageGridPng, linePlotPng } from '../../src/io/png.js';
import { tensor } from '../../src/tensor/tensor.js';

function read(bytes: Uint8Array): { w: number; h: number; px: (x: number, y: number) => number[] } {
  const png = PNG.sync.read(Buffer.from(bytes));
  return {
    w: png.width,
    h: png.height,
    px: (x, y) => Array.from(png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3)),
  };
}

describe('imageGridPng', () => {
  it('lays out [n, h*w] images with padding and nearest-neighbour scaling', () => {
    // 3 images of 2×2; image k has pixel values (k/2, …); grid 2×2, pad 1, scale 2
    const x = tensor([
      [0, 0.5, 1, 0],
      [1, 1, 1, 1],
      [0.25, 0.25, 0.25, 0.25],
    ]);
    const img = read(imageGridPng(x, { scale: 2 }));
    expect([img.w, img.h]).toEqual([2 * 4 + 3, 2 * 4 + 3]);
    expect(img.px(0, 0)).toEqual([128, 128, 128]); // padding
    expect(img.px(1, 1)).toEqual([0, 0, 0]); // image 0, pixel (0,0), scaled block
    expect(img.px(2, 2)).toEqual([0, 0, 0]);
    expect(img.px(3, 1)).toEqual([128, 128, 128].map(() => 128)); // pixel (0,1) = 0.5 → 128
    expect(img.px(1, 3)).toEqual([255, 255, 255]); // pixel (1,0) = 1
    expect(img.px(6, 1)).toEqual([255, 255, 255]); // image 1 in column 1
    expect(img.px(1, 6)).toEqual([64, 64, 64]); // image 2 in row 1: 0.25 → 64
    expect(img.px(6, 6)).toEqual([128, 128, 128]); // empty cell shows the pad colour
  });

  it('accepts [n,h,w] and [n,3,h,w], clips or min-max normalises, marks NaN', () => {
    const g = read(imageGridPng(tensor([[[2, -1]]]), { pad: 0 }));
    expect([g.w, g.h]).toEqual([2, 1]);
    expect(g.px(0, 0)).toEqual([255, 255, 255]);
    expect(g.px(1, 0)).toEqual([0, 0, 0]);
    const m = read(imageGridPng(tensor([[[-3, -1, NaN]]]), { pad: 0, normalize: 'minmax' }));
    expect(m.px(0, 0)).toEqual([0, 0, 0]);
    expect(m.px(1, 0)).toEqual([255, 255, 255]);
    expect(m.px(2, 0)).toEqual([...NAN_COLOR]);
    const rgb = read(imageGridPng(tensor([[[[1]], [[0]], [[0.5]]]]), { pad: 0 }));
    expect(rgb.px(0, 0)).toEqual([255, 0, 128]);
    const rect = read(imageGridPng(tensor([[1, 2, 3, 4, 5, 6]]), { pad: 0, height: 2, width: 3, normalize: 'minmax' }));
    expect([rect.w, rect.h]).toEqual([3, 2]);
    const wide = read(imageGridPng(tensor([[0], [0], [0], [0], [0]]), { pad: 0, rows: 1 }));
    expect([wide.w, wide.h]).toEqual([5, 1]);
  });

  it('rejects bad shapes and options', () => {
    expect(() => imageGridPng(tensor([[1, 2, 3]]))).toThrow(/cannot view \[1, 3\]/);
    expect(() => imageGridPng(tensor([[[[1]], [[1]]]]))).toThrow(/2 channels/);
    expect(() => imageGridPng(tensor([1, 2]))).toThrow(/expected \[n, h\*w\]/);
    expect(() => imageGridPng(tensor([[1]]), { scale: 1.5 })).toThrow(/scale must be a positive integer/);
    expect(() => imageGridPng(tensor([[1], [2], [3]]), { rows: 1, cols: 2 })).toThrow(/cannot hold 3 images/);
  });
});

describe('heatmapPng', () => {
  it('colormap endpoints and interpolation', () => {
    expect(colormap(0)).toEqual([68, 1, 84]);
    expect(colormap(1)).toEqual([253, 231, 37]);
    expect(colormap(0.5)).toEqual([33, 144, 141]);
    expect(colormap(-5)).toEqual(colormap(0));
    expect(colormap(1, 'magma')).toEqual([252, 253, 191]);
    const mid = colormap(1 / 16);
    expect(mid).toEqual([70, 23, 103]); // halfway between the first two stops
  });

  it('row 0 is the top (max y), NaN is magenta, scale enlarges cells', () => {
    const v = tensor([
      [0, 1, 2],
      [3, 4, NaN],
    ]);
    const img = read(heatmapPng(v, { scale: 2 }));
    expect([img.w, img.h]).toEqual([6, 4]);
    expect(img.px(0, 0)).toEqual([...colormap(0)]);
    expect(img.px(1, 1)).toEqual([...colormap(0)]);
    expect(img.px(5, 0)).toEqual([...colormap(0.5)]);
    expect(img.px(2, 2)).toEqual([...colormap(1)]);
    expect(img.px(5, 3)).toEqual([...NAN_COLOR]);
    const fixed = read(heatmapPng(new Float64Array([0, 10]), { shape: [1, 2], vmin: 0, vmax: 20, colormap: 'magma' }));
    expect(fixed.px(1, 0)).toEqual([...colormap(0.5, 'magma')]);
  });

  it('points are mapped through the extent (x right, y up)', () => {
    const v = new Float64Array(100).fill(0);
    const img = read(
      heatmapPng(v, {
        extent: [-1, 1, -1, 1],
        scale: 2,
        points: [
          { x: tensor([[-0.95, 0.95]]), color: [255, 0, 0], radius: 1 }, // top left
          { x: [[0.95, -0.95]], color: [0, 255, 0], radius: 1 }, // bottom right
          { x: [0.05, 0.05, 5, 5, NaN, 0], color: [0, 0, 255], radius: 0 }, // centre; outside and NaN points skipped
        ],
      }),
    );
    expect([img.w, img.h]).toEqual([20, 20]);
    expect(img.px(0, 0)).toEqual([255, 0, 0]);
    expect(img.px(19, 19)).toEqual([0, 255, 0]);
    expect(img.px(10, 9)).toEqual([0, 0, 255]); // x = 0.05 → column 10, y = 0.05 → row 9
    expect(img.px(11, 9)).toEqual([0, 0, 0]); // its 1-pixel outline
    expect(img.px(5, 15)).toEqual([...colormap(0.5)]); // constant field → middle colour
  });

  it('rejects bad input', () => {
    expect(() => heatmapPng(tensor([1, 2]))).toThrow(/must be \[ny, nx\]/);
    expect(() => heatmapPng(new Float64Array(5))).toThrow(/give opts.shape/);
    expect(() => heatmapPng(tensor([[1]]), { points: { x: tensor([1, 2, 3], [1, 3]) }, extent: [0, 1, 0, 1] })).toThrow(/\[n, 2\]/);
    expect(() => heatmapPng(tensor([[1]]), { points: { x: [0, 0] }, extent: [1, 0, 0, 1] })).toThrow(/xmax > xmin/);
  });
});

describe('linePlotPng', () => {
  const count = (img: ReturnType<typeof read>, rgb: number[]) => {
    let c = 0;
    for (let y = 0; y < img.h; y++) for (let x = 0; x < img.w; x++) if (img.px(x, y).every((v, i) => v === rgb[i])) c++;
    return c;
  };
  it('draws curves with axes; NaN points leave a red marker under the x axis', () => {
    const loss = Array.from({ length: 50 }, (_, i) => Math.exp(-i / 10));
    const img = read(linePlotPng(loss, { width: 200, height: 120 }));
    expect([img.w, img.h]).toEqual([200, 120]);
    expect(count(img, [31, 119, 180])).toBeGreaterThan(150); // the first palette colour
    expect(img.px(30, 60)).toEqual([0, 0, 0]); // y axis at x = 30
    expect(count(img, [220, 0, 0])).toBe(0);
    loss[20] = NaN;
    const bad = read(linePlotPng(loss, { width: 200, height: 120 }));
    expect(count(bad, [220, 0, 0])).toBe(30); // one 3×10 marker
    const two = read(linePlotPng([{ y: tensor([1, 2, 3]) }, { y: [3, 2, 1], x: [0, 1, 2], color: [0, 200, 0] }], { logY: true, width: 100, height: 80 }));
    expect(count(two, [0, 200, 0])).toBeGreaterThan(20);
    expect(() => linePlotPng([{ y: [1, 2], x: [1] }])).toThrow(/1 x values but 2 y values/);
  });
});

describe('decodePng', () => {
  it('round-trips a grey grid and composites alpha over white', () => {
    const x = tensor([[0, 0.2, 0.6, 1]]);
    const t = decodePng(imageGridPng(x, { pad: 0 }));
    expect(t.shape).toEqual([2, 2]);
    expect(t.toArray()).toEqual([0, 51, 153, 255].map((v) => Math.fround(v / 255)));
    const png = new PNG({ width: 2, height: 1 });
    png.data.set([255, 0, 0, 255, 0, 0, 0, 0]);
    const c = decodePng(new Uint8Array(PNG.sync.write(png)));
    expect(c.data[0]).toBeCloseTo(0.299, 6);
    expect(c.data[1]).toBe(1); // fully transparent → white
  });
  it('invalid bytes are a DataError naming the file', () => {
    expect(() => decodePng(new Uint8Array([1, 2, 3]), 'in.png')).toThrow(DataError);
    expect(() => decodePng(new Uint8Array([1, 2, 3]), 'in.png')).toThrow(/^in\.png: not a valid PNG/);
  });
});

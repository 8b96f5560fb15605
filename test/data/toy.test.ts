import { describe, expect, it } from 'vitest';
import { barsAndStripes, getToy, isToyName, moons, spirals, swissRoll, toyDatasets } from '../../src/data/toy.js';
import { InvalidArgumentError } from '../../src/errors.js';
import type { ToyDataset } from '../../src/data/toy.js';
import { key } from '../../src/random/index.js';
import { Tensor } from '../../src/tensor/tensor.js';

/** Upper χ² quantile at standard-normal level z (Wilson–Hilferty); z = 4.75 is a tail of 1e-6. */
function chi2Quantile(df: number, z = 4.75): number {
  const a = 2 / (9 * df);
  return df * (1 - a + z * Math.sqrt(a)) ** 3;
}

/**
 * Midpoint-rule integrals of p and −p log p over the data set's bounds on a grid of step ≈ h, and the mass of each
 * cell of a B×B histogram over the same box.
 */
function gridIntegrals(ds: ToyDataset, h: number, B: number): { mass: number; entropy: number; bins: Float64Array } {
  const [x0, x1, y0, y1] = ds.bounds!;
  const nx = Math.ceil((x1 - x0) / h / B) * B, ny = Math.ceil((y1 - y0) / h / B) * B;
  const hx = (x1 - x0) / nx, hy = (y1 - y0) / ny;
  const bins = new Float64Array(B * B);
  let mass = 0, entropy = 0;
  const row = new Float64Array(2 * nx);
  for (let j = 0; j < ny; j++) {
    const y = y0 + (j + 0.5) * hy;
    for (let i = 0; i < nx; i++) {
      row[2 * i] = x0 + (i + 0.5) * hx;
      row[2 * i + 1] = y;
    }
    const lp = ds.logDensity!(row);
    for (let i = 0; i < nx; i++) {
      const p = Math.exp(lp[i]);
      const m = p * hx * hy;
      mass += m;
      if (p > 0) entropy -= m * lp[i];
      bins[Math.floor((j * B) / ny) * B + Math.floor((i * B) / nx)] += m;
    }
  }
  return { mass, entropy, bins };
}

// grid step per data set: at most σ/4 of the finest feature, so the midpoint rule is spectrally accurate
const GRID: Record<string, number> = {
  '8gaussians': 0.05, 'gmm-0.8-0.2': 0.2, rings: 0.02, moons: 0.05, swissroll: 0.05, checkerboard: 0.1,
  pinwheel: 0.02, spirals: 0.025,
};

describe('continuous toy data sets', () => {
  const names = Object.keys(toyDatasets).filter((n) => toyDatasets[n].kind === 'continuous');
  it('registry lists all eight 2-D sets, each with an exact density', () => {
    expect(names.sort()).toEqual(['8gaussians', 'checkerboard', 'gmm-0.8-0.2', 'moons', 'pinwheel', 'rings', 'spirals', 'swissroll']);
    for (const n of names) expect(toyDatasets[n].logDensity).not.toBeNull();
  });

  for (const name of Object.keys(GRID)) {
    it(`${name}: density integrates to 1, samples match it (entropy and histogram)`, () => {
      const ds = getToy(name);
      const B = 6;
      const g = gridIntegrals(ds, GRID[name], B);
      // (1) normalisation: mass outside the bounds < 1e-6 and the midpoint rule is spectrally accurate
      expect(Math.abs(g.mass - 1)).toBeLessThan(2e-4);

      const n = 20000;
      const x = ds.sample(key(7), n);
      expect(x.shape).toEqual([n, 2]);
      expect(x.dtype).toBe('float32');
      const xs = new Float64Array(x.data); // evaluate at the float32 points actually returned
      const lp = ds.logDensity!(xs);
      // (2) E[−log p(X)] = H(p): Monte Carlo mean vs grid entropy, tolerance 5 standard errors + grid error
      let s = 0, s2 = 0;
      for (let i = 0; i < n; i++) {
        s += -lp[i];
        s2 += lp[i] * lp[i];
      }
      const mean = s / n;
      const sd = Math.sqrt(Math.max(s2 / n - mean * mean, 0));
      expect(Number.isFinite(mean)).toBe(true);
      expect(Math.abs(mean - g.entropy)).toBeLessThan(5 * (sd / Math.sqrt(n)) + 2e-3);
      if (name === 'checkerboard') expect(g.entropy).toBeCloseTo(Math.log(32), 10);

      // (3) histogram of samples vs the density's cell masses, χ² at tail 1e-6 (cells with expectation < 20 pooled)
      const [x0, x1, y0, y1] = ds.bounds!;
      const counts = new Float64Array(B * B);
      for (let i = 0; i < n; i++) {
        const bx = Math.min(B - 1, Math.max(0, Math.floor(((xs[2 * i] - x0) / (x1 - x0)) * B)));
        const by = Math.min(B - 1, Math.max(0, Math.floor(((xs[2 * i + 1] - y0) / (y1 - y0)) * B)));
        counts[by * B + bx]++;
      }
      let chi = 0, df = -1, poolE = 0, poolO = 0;
      for (let c = 0; c < B * B; c++) {
        const e = (n * g.bins[c]) / g.mass;
        if (e < 20) {
          poolE += e;
          poolO += counts[c];
        } else {
          chi += (counts[c] - e) ** 2 / e;
          df++;
        }
      }
      if (poolE >= 20) {
        chi += (poolO - poolE) ** 2 / poolE;
        df++;
      } else expect(poolO).toBeLessThan(20 + 5 * Math.sqrt(20));
      expect(df).toBeGreaterThan(0);
      expect(chi).toBeLessThan(chi2Quantile(df));
    });
  }

  it('curve quadrature is converged (panel length σ vs σ/4: 1e-9 abs on samples, 1e-8 rel far away)', () => {
    for (const make of [moons, swissRoll, spirals]) {
      const a = make(), b = make({ refine: 4 });
      const x = new Float64Array(a.sample(key(3), 500, 'float64').data);
      x.set([0, 0, 50, -50, 1e6, 1e6], 0); // include far points: finite, no underflow to −∞
      const la = a.logDensity!(x), lb = b.logDensity!(x);
      for (let i = 0; i < 500; i++) {
        expect(Number.isFinite(la[i])).toBe(true);
        expect(Math.abs(la[i] - lb[i])).toBeLessThan(i < 3 ? 1e-8 * Math.abs(la[i]) : 1e-9);
      }
    }
  });

  it('sampling is deterministic in the key, supports float64, validates input', () => {
    for (const name of names) {
      const ds = toyDatasets[name];
      expect(Array.from(ds.sample(key(1), 50).data)).toEqual(Array.from(ds.sample(key(1), 50).data));
      expect(Array.from(ds.sample(key(1), 50).data)).not.toEqual(Array.from(ds.sample(key(2), 50).data));
      const d64 = ds.sample(key(1), 10, 'float64');
      expect(d64.dtype).toBe('float64');
      expect(ds.logDensity!(d64).length).toBe(10);
      expect(() => ds.logDensity!(new Float64Array([0, NaN]))).toThrow(/row 0, column 1 is NaN/);
      expect(() => ds.logDensity!(new Tensor(new Float32Array(3), [1, 3]))).toThrow(/shape \[n, 2\]/);
    }
    expect(toyDatasets.checkerboard.logDensity!(new Float64Array([-3, -3, -1, -3, 5, 0]))).toEqual(
      new Float64Array([-Math.log(32), -Infinity, -Infinity]),
    );
  });

  it('getToy rejects unknown names with the list of valid ones', () => {
    expect(() => getToy('moon')).toThrow(/unknown toy data set 'moon'; valid names: 8gaussians, .*moons.*bars-and-stripes:D/);
    expect(() => getToy('moon')).toThrow(InvalidArgumentError);
    expect([isToyName('moons'), isToyName('bars-and-stripes:13'), isToyName('moon')]).toEqual([true, true, false]);
    expect(getToy('bars-and-stripes:5').dim).toBe(25);
    expect(() => getToy('bars-and-stripes:13')).toThrow(/D must be an integer in \[1, 12\]/);
  });
});

describe('bars-and-stripes', () => {
  for (const D of [1, 2, 3, 4, 6]) {
    it(`D = ${D}: 2·2^D − 2 distinct valid patterns`, () => {
      const ds = barsAndStripes(D);
      const M = 2 * 2 ** D - 2;
      expect(ds.patterns.shape).toEqual([M, D * D]);
      const seen = new Set<string>();
      for (let i = 0; i < M; i++) seen.add(Array.from(ds.patterns.data.subarray(i * D * D, (i + 1) * D * D)).join(''));
      expect(seen.size).toBe(M);
      const lp = ds.logDensity!(ds.patterns);
      expect(lp.every((v) => Math.abs(v + Math.log(M)) < 1e-12)).toBe(true);
      // probabilities of all 2^(D²) images sum to 1 (exhaustive for small D)
      if (D <= 3) {
        const all = new Float64Array(2 ** (D * D) * D * D);
        for (let m = 0; m < 2 ** (D * D); m++) for (let b = 0; b < D * D; b++) all[m * D * D + b] = (m >> b) & 1;
        const p = ds.logDensity!(all).reduce((a, v) => a + Math.exp(v), 0);
        expect(p).toBeCloseTo(1, 12);
      }
    });
  }

  it('rejects non-patterns and samples uniformly (χ² at tail 1e-6)', () => {
    const ds = barsAndStripes(3);
    const bad = new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1, 0.5, 0.5, 0.5, 0, 0, 0, 1, 1, 1]);
    expect(Array.from(ds.logDensity!(bad))).toEqual([-Infinity, -Infinity]);
    const n = 28000;
    const x = ds.sample(key(5), n);
    expect(x.shape).toEqual([n, 9]);
    const lp = ds.logDensity!(x);
    expect(lp.every((v) => v === -Math.log(14))).toBe(true);
    const counts = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const s = Array.from(x.data.subarray(9 * i, 9 * i + 9)).join('');
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    expect(counts.size).toBe(14);
    let chi = 0;
    for (const c of counts.values()) chi += (c - n / 14) ** 2 / (n / 14);
    expect(chi).toBeLessThan(chi2Quantile(13));
  });
});

import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import {
  LAYERS, SIBLINGS, cycleViolations, importGraph, importsOf, internalViolations, layeringViolations, sourceFiles, type ImportEdge,
} from './imports.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const files = sourceFiles(root, ['src', 'web/src']);
const edges = importGraph(root, files);

describe('dependency direction (docs/architecture.md)', () => {
  it('finds the library and playground sources and their imports', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files).toContain('src/tensor/tensor.ts');
    expect(files).toContain('web/src/worker.ts');
    expect(edges.length).toBeGreaterThan(300);
  });

  it('every import points down the layering tensor ← {random, nn, optim, energy, io, data} ← {samplers, eval} ← losses ← models ← {cli, web}', () => {
    expect(layeringViolations(edges)).toEqual([]);
  });

  it('no import cycles between files or between folders', () => {
    expect(cycleViolations(edges)).toEqual([]);
  });

  it('private helpers (_internal/) are imported only inside the folder that holds them', () => {
    expect(internalViolations(edges)).toEqual([]);
  });

  it('the sibling exceptions are between folders of one tier', () => {
    for (const [a, b] of SIBLINGS) expect(LAYERS[a], `${a} → ${b}`).toBe(LAYERS[b]);
  });
});

describe('the checker itself', () => {
  it('parses static, re-export, dynamic and type imports with their lines, and skips packages', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "export { c } from './c.js';",
      "import fs from 'node:fs';",
      "const d = await import('./d.js');",
      "type E = import('./e.js').E;",
      "export * from './f.js';",
    ].join('\n');
    expect(importsOf('x.ts', text)).toEqual([
      { spec: './a.js', line: 1 }, { spec: '../b.js', line: 2 }, { spec: './c.js', line: 3 }, { spec: './d.js', line: 5 },
      { spec: './e.js', line: 6 }, { spec: './f.js', line: 7 },
    ]);
  });

  it('reports an upward import, a sibling import and an unresolved import with file and line', () => {
    const fake: ImportEdge[] = [
      { from: 'src/tensor/ops.ts', line: 7, spec: '../random/philox.js', to: 'src/random/philox.ts' },
      { from: 'src/eval/ais.ts', line: 3, spec: '../samplers/mala.js', to: 'src/samplers/mala.ts' },
      { from: 'src/losses/x.ts', line: 2, spec: './gone.js', to: null },
      { from: 'src/models/rbm/a.ts', line: 1, spec: '../../losses/x.js', to: 'src/losses/x.ts' },
      { from: 'src/cli/a.ts', line: 1, spec: '../newfolder/x.js', to: 'src/newfolder/x.ts' },
      { from: 'src/tensor/b.ts', line: 2, spec: '../newroot.js', to: 'src/newroot.ts' },
      { from: 'src/tensor/c.ts', line: 3, spec: '../errors.js', to: 'src/errors.ts' }, // errors sits below tensor: allowed
    ];
    const v = layeringViolations(fake);
    expect(v).toHaveLength(5);
    expect(v[0]).toMatch(/^src\/tensor\/ops\.ts:7: tensor \(tier 0\) imports random \(tier 1, a higher tier\)/);
    expect(v[1]).toMatch(/^src\/eval\/ais\.ts:3: eval \(tier 2\) imports samplers \(tier 2, a sibling/);
    expect(v[2]).toMatch(/^src\/losses\/x\.ts:2: .*resolves to no file/);
    expect(v[3]).toMatch(/^src\/cli\/a\.ts:1: folder 'newfolder' is not placed/);
    expect(v[4]).toMatch(/^src\/tensor\/b\.ts:2: folder 'newroot' is not placed/); // a new root module needs a tier too
  });

  it("reports an import of another folder's _internal/ file", () => {
    const fake: ImportEdge[] = [
      { from: 'src/samplers/mala.ts', line: 3, spec: './_internal/rows.js', to: 'src/samplers/_internal/rows.ts' },
      { from: 'src/inference/map.ts', line: 8, spec: '../samplers/_internal/rows.js', to: 'src/samplers/_internal/rows.ts' },
    ];
    expect(internalViolations(fake)).toEqual(['src/inference/map.ts:8: imports the private src/samplers/_internal/rows.ts from outside src/samplers/']);
  });

  it('reports file and folder cycles with the imports that close them', () => {
    const fake: ImportEdge[] = [
      { from: 'src/models/a.ts', line: 4, spec: './b.js', to: 'src/models/b.ts' },
      { from: 'src/models/b.ts', line: 9, spec: './a.js', to: 'src/models/a.ts' },
      { from: 'src/eval/x.ts', line: 2, spec: '../models/c.js', to: 'src/models/c.ts' },
      { from: 'src/models/c.ts', line: 5, spec: '../eval/x.js', to: 'src/eval/x.ts' },
    ];
    const v = cycleViolations(fake);
    expect(v).toHaveLength(3);
    expect(v[0]).toContain('src/eval/x.ts:2 → src/models/c.ts');
    expect(v[1]).toContain('src/models/a.ts:4 → src/models/b.ts; src/models/b.ts:9 → src/models/a.ts');
    expect(v[2]).toMatch(/^folder cycle among eval, models: .*src\/eval\/x\.ts:2 \(eval → models\)/);
  });
});

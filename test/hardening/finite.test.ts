/**
 * Hardening, results: model loaders refuse non-finite tensors and out-of-range configs naming the file, and no command
 * prints or writes a non-finite result with exit 0.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectRefusal, readRawSafetensors, rawSafetensors, rng, runCli, tempDir, trainSmallModel, writeCsv } from './helpers.js';

let dir: string;
let model: string;

beforeAll(() => {
  dir = tempDir();
  model = trainSmallModel(dir);
  writeCsv(join(dir, 'd.csv'));
});

/** Writes a copy of the model with `edit` applied to its header and data section. */
function variant(name: string, edit: (h: Record<string, any>, data: Buffer) => void): string {
  const { header, data } = readRawSafetensors(model);
  const d = Buffer.from(data);
  edit(header, d);
  writeFileSync(join(dir, name), rawSafetensors(header, d));
  return name;
}

describe('model loaders', () => {
  const g = rng(6);
  const poison = [NaN, Infinity, -Infinity];
  for (let trial = 0; trial < 6; trial++) {
    const value = poison[trial % 3];
    it(`a model with ${value} at a random weight is refused by eval, sample and score, naming the file and tensor (trial ${trial})`, () => {
      const name = variant(`bad${trial}.safetensors`, (h, data) => {
        const names = Object.keys(h).filter((k) => k !== '__metadata__');
        const t = h[names[g.int(0, names.length - 1)]] as { data_offsets: [number, number] };
        const idx = g.int(0, (t.data_offsets[1] - t.data_offsets[0]) / 4 - 1);
        data.writeFloatLE(value, t.data_offsets[0] + 4 * idx);
      });
      const needle = new RegExp(`${name}: tensor ".*" holds a non-finite value`);
      expectRefusal(runCli(dir, ['eval', name, '--data', 'd.csv']), needle);
      expectRefusal(runCli(dir, ['sample', name, '--n', '5', '--out', `s${trial}.csv`]), needle);
      expect(existsSync(join(dir, `s${trial}.csv`))).toBe(false);
      if (trial === 0) expectRefusal(runCli(dir, ['score', name, '--data', 'd.csv']), needle);
    });
  }
  it('grid bounds with xmin > xmax are refused, naming the file', () => {
    const name = variant('bounds.safetensors', (h) => {
      const cfg = JSON.parse(h.__metadata__.config);
      cfg.bounds = [cfg.bounds[1], cfg.bounds[0], cfg.bounds[2], cfg.bounds[3]];
      h.__metadata__.config = JSON.stringify(cfg);
    });
    expectRefusal(runCli(dir, ['eval', name, '--data', 'd.csv']), /bounds.safetensors: config.bounds .* must have xmin < xmax/);
  });
  it('a config number that overflows to Infinity (1e999) is refused, naming the file and the field', () => {
    const name = variant('inf.safetensors', (h) => {
      h.__metadata__.config = h.__metadata__.config.replace(/"bounds":\[[^,]*/, '"bounds":[1e999');
    });
    expectRefusal(runCli(dir, ['eval', name, '--data', 'd.csv']), /inf.safetensors: config.bounds\[0\] is Infinity/);
  });
  for (const kind of ['deep-ebm', 'score-sde', 'rbm-bernoulli']) {
    it(`a file claiming kind ${kind} with another kind's config is refused with exit 2 naming the file`, () => {
      const name = variant(`${kind}.safetensors`, (h) => {
        h.__metadata__.kind = kind;
      });
      expectRefusal(runCli(dir, ['eval', name, '--data', 'd.csv']), new RegExp(`${kind}.safetensors: `));
    });
  }
});

describe('non-finite results', () => {
  it('sample --step-size 1e308 diverges: exit 2 naming the first non-finite sample, nothing written', () => {
    const r = runCli(dir, ['sample', model, '--n', '20', '--step-size', '1e308', '--out', 'div.csv']);
    // the sampler's own divergence check or, failing that, the output guard: either names where it went non-finite
    expectRefusal(r, /--out div.csv: sample 1, column 1 is (NaN|-?Infinity); not writing non-finite samples|sampling diverged: Langevin produced non-finite values at step \d+, row \d+/);
    expect(existsSync(join(dir, 'div.csv'))).toBe(false);
  });
  it('a diverging training exits 2 with one line and writes no model', () => {
    const r = runCli(dir, ['train', 'mlp-energy', '--data', 'd.csv', '--steps', '30', '--lr', '1e30', '--out', 'div.safetensors', '--quiet']);
    expectRefusal(r, /training diverged at step \d+: loss is (NaN|-?Infinity)/);
    expect(existsSync(join(dir, 'div.safetensors'))).toBe(false);
  });
  it('the model file is unchanged by all these refusals', () => {
    expect(readFileSync(model).length).toBeGreaterThan(0);
  });
});

/**
 * `ebm denoise --image in.png --out out.png`: binary image denoising with an Ising prior
 * (`E(s) = −β Σ_{i~j} s_i s_j − η Σ_i y_i s_i`, see `src/structured/denoise.ts`). The input is converted to grey and
 * thresholded at 0.5; the output is a black-and-white PNG of the same size.
 */
import type { Command } from 'commander';
import { readInputFile } from '../../io/safeFile.js';
import { key as makeKey } from '../../random/index.js';
import { DataError, ioErrorDetail } from '../../io/errors.js';
import { decodePng, imageGridPng } from '../../io/png.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { Tensor } from '../../tensor/tensor.js';
import { denoiseBinaryImage, pixelErrorRate } from '../../structured/denoise.js';
import { printResult, runCommand, type CliContext } from '../context.js';
import { addSeedOption, checkOutputPath, fmt } from '../common.js';
import { parseChoice, parseFloatValue, parsePositiveInt } from '../options.js';
import { InvalidArgumentError } from 'commander';

interface Opts { image: string; out: string; method: 'icm' | 'gibbs' | 'meanfield'; beta: number; eta?: number; noise?: number; sweeps?: number; seed: number; json?: boolean }

function parseFlip(raw: string): number {
  const v = parseFloatValue(raw);
  if (!(v > 0 && v < 0.5)) throw new InvalidArgumentError(`must be a flip probability in (0, 0.5), got "${raw}"`);
  return v;
}

/** Registers `ebm denoise`. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('denoise')
    .description('denoise a black-and-white image with an Ising prior (ICM, annealed Gibbs or mean field)')
    .requiredOption('--image <in.png>', 'noisy input image (thresholded at 0.5)')
    .requiredOption('--out <out.png>', 'denoised output image')
    .option('--method <m>', 'icm, gibbs or meanfield', parseChoice(['icm', 'gibbs', 'meanfield'] as const), 'icm')
    .option('--beta <b>', 'coupling β between neighbouring pixels', parseFloatValue, 1)
    .option('--eta <e>', 'data weight η (default ½ log((1−p)/p) from --noise, else 1)', parseFloatValue)
    .option('--noise <p>', 'assumed flip probability of the noise', parseFlip)
    .option('--sweeps <n>', 'sweeps / iterations', parsePositiveInt)
    .option('--json', 'print one JSON object');
  addSeedOption(cmd);
  cmd.action((o: Opts) =>
    runCommand(ctx, async () => {
      checkOutputPath(o.out, '--out', ['.png']);
      let bytes: Uint8Array;
      try {
        bytes = await readInputFile(o.image);
      } catch (e) {
        if (e instanceof DataError) throw e;
        throw new DataError(`cannot read image (${ioErrorDetail(e)})`, { file: o.image });
      }
      const img = decodePng(bytes, o.image);
      const t0 = performance.now();
      const r = denoiseBinaryImage(img, {
        method: o.method, coupling: o.beta, key: makeKey(o.seed),
        ...(o.eta !== undefined ? { dataWeight: o.eta } : {}),
        ...(o.noise !== undefined ? { flipProbability: o.noise } : {}),
        ...(o.sweeps !== undefined ? { sweeps: o.sweeps } : {}),
      });
      const seconds = (performance.now() - t0) / 1000;
      const [h, w] = img.shape;
      await writeFileAtomic(o.out, imageGridPng(new Tensor(r.image.data, [1, h, w]), { pad: 0 }));
      const changed = pixelErrorRate(img, r.image);
      const result = { image: o.image, out: o.out, height: h, width: w, method: o.method, beta: r.coupling, eta: r.dataWeight, inputEnergy: r.inputEnergy, energy: r.energy, changedFraction: changed, sweeps: r.sweeps, seconds };
      printResult(ctx, o.json, result, () =>
        [
          `denoised ${o.image} (${w}×${h}) by ${o.method} with β = ${fmt(r.coupling)}, η = ${fmt(r.dataWeight)} in ${fmt(seconds)} s`,
          `energy ${fmt(r.inputEnergy)} → ${fmt(r.energy)}; ${fmt(100 * changed)} % of pixels changed`,
          `output ${o.out}`,
        ].join('\n'),
      );
    }),
  );
}

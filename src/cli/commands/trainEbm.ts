/**
 * `ebm train ebm`: a deep EBM (MLP or small conv net) trained by contrastive divergence with a replay buffer and
 * Langevin negatives, with divergence handling; and the `deep-ebm` model kind for `ebm sample` / `ebm eval`.
 *
 * Registered by importing this module (it calls `registerTrainKind` when loaded; the `deep-ebm` file kind is in the library's registry, `src/models/deepEbm/kind.ts`).
 */
import type { Command } from 'commander';
import { Tensor } from '../../tensor/tensor.js';
import { noGrad } from '../../tensor/autodiff.js';
import { key as makeKey, split, foldIn } from '../../random/index.js';
import { geometricTemperatures } from '../../samplers/index.js';
import { ACTIVATIONS, type Activation } from '../../nn/index.js';
import { saveModel, layoutOf } from '../../io/model.js';
import { checkCheckpointParams, saveCheckpointSync, type StateTree } from '../../io/checkpoint.js';
import { DataError } from '../../io/errors.js';
import { imageGridPng } from '../../io/png.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { contrastiveDivergence, spectralNormalize, type ReinitSource } from '../../losses/contrastiveDivergence.js';
import {
  parseArch, formatArch, archInputSize, initDeepEbm, deepEbmEnergy, standardization,
  trainDeepEbmAsync, ArchSpecError, TrainingDivergedError, densityHealthCheck, type DeepEbmResumeState, type DensityHealth,
} from '../../models/deepEbm/index.js';
import { printResult, runCommand, type CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { parseChoice, parsePositiveFloat, parsePositiveInt, parseUnitInterval, parseFloatValue, parseFourierSpec } from '../options.js';
import {
  addDataOptions, addSeedOption, addTrainOutputOptions, backendLines, checkOutputPath, fmt, fourierFromOption, loadDataFromOptions, loadResumePoint,
  resolveTrainOutputs, trainDataKey, type DataOptionValues, type TrainOutputValues,
} from '../common.js';
import { progressBar } from '../progress.js';
import { openTrainLog, logInterval, rollbackReporter } from '../trainLog.js';
import { interruptRegion } from '../signals.js';
import { finishIfStopped } from '../trainLoop.js';
import { registerTrainKind } from './train.js';
import { runHotLoop, type HotLoopBackend } from '../../gpu/select.js';
import { deepEbmCdValueAndGradGpu, deepEbmCdGpuUnsupported } from '../../models/deepEbm/gpu.js';
import { DEEP_EBM_KIND, deepEbmSamplerFor, sampleDeepEbmFromNoise, deepEbmDensityPng, type DeepEbmFileConfig } from '../../models/deepEbm/kind.js';
import { DEEP_EBM_DEFAULTS, DEEP_EBM_IMAGE_DEFAULTS, deepEbmLossDefaults } from '../../models/deepEbm/defaults.js';
import { EBM_SCORE_LOSSES, trainEbmByScoreMatching, lrSchedule, type EbmScoreLoss } from '../kinds/scoreEbm.js';

interface Opts extends DataOptionValues, TrainOutputValues {
  arch: string;
  fourier?: { features: number; scale: number } | null;
  activation: Activation;
  loss: 'cd' | EbmScoreLoss;
  sigma: number;
  /** `--sigma-max`: dsm's largest noise level (noise-conditional energy), null: single-σ DSM. */
  sigmaMax?: number | null;
  heat?: number;
  sampler: 'ula' | 'mala';
  mcmcSteps: number;
  stepSize: number;
  temperature: number;
  buffer: number;
  reinit?: number;
  reinitFrom: 'uniform' | 'data' | 'normal';
  negatives: 'buffer' | 'tempered';
  tMax: number;
  temps: number;
  chains?: number;
  ema?: number;
  alpha: number;
  dataNoise: number;
  spectralNorm?: boolean;
  samplerClip?: number;
  clip?: number;
  epochs?: number;
  steps?: number;
  batch: number;
  lr: number;
  lrDecay: 'none' | 'cosine';
  /** `--no-check`: skip the density health check after CD training. */
  check: boolean;
  maxRollbacks: number;
  confine: number;
  seed: number;
  samplesPng?: string;
}

/** Registers `ebm train ebm`. */
export function registerTrainEbm(train: Command, ctx: CliContext): void {
  const d = DEEP_EBM_DEFAULTS, im = DEEP_EBM_IMAGE_DEFAULTS;
  const vi = (v: unknown, w: unknown): string => (v === w ? `default ${String(v)}` : `default: vectors ${String(v)}, images ${String(w)}`);
  const cmd = train
    .command('ebm')
    .description('train a deep EBM (MLP or conv energy) by contrastive divergence (default) or score matching')
    .addHelpText('after', [
      '',
      'Defaults (no tuning flags) for vector data, the library\'s DEEP_EBM_DEFAULTS; on random 2-D Gaussian mixtures never used',
      'for tuning, cd lands 0.03–0.06 nat from the true test NLL, dsm 0.07–0.11 (bench/RESULTS.md "Deep-EBM defaults").',
      'Inputs are standardised (z = (x − mean)/std, stored in the',
      `model), MLP D-${d.hidden.join('-')}-1 (${d.activation}) with ${d.fourier.features}:${d.fourier.scale} Fourier features for D ≤ ${d.fourierMaxDim}, confining term ${d.confine}·½‖z‖²,`,
      `contrastive divergence with parallel-tempering negatives (${d.chains} chains at each of ${d.temps} temperatures 1…${d.tMax}, ${d.sampler.toUpperCase()},`,
      `${d.mcmcSteps} transitions per step, step size ${d.stepSizeZ}·mean(std²)), ${d.steps} steps of ${d.batch} rows, Adam lr ${d.lr} with cosine decay, parameter`,
      `EMA ${d.ema} saved. Score matching (--loss dsm|ssm|sm): ${d.scoreMatchingFourier.features}:${d.scoreMatchingFourier.scale} Fourier features, same net; ssm|sm: confining`,
      `term ${d.scoreMatchingConfine}, ${d.scoreMatchingSteps} steps, lr ${d.lr}. --loss dsm on D ≤ ${d.fourierMaxDim} columns trains a noise-conditional energy E(x, σ) (log σ is one more`,
      `network input) on σ from ${d.sigmaZ}·rms(std) (--sigma) to ${d.sigmaMaxZ}·rms(std) (--sigma-max), half of each batch at the smallest σ, with`,
      `a heat-equation term (--heat ${d.heat}) that carries the modes' weights, which large σ sees, down to the smallest σ; the saved`,
      `model is E(x, σ_min), the data smoothed by N(0, σ_min²); confining term ${d.dsmConfine}, ${d.dsmSteps} steps of ${d.dsmBatch} rows, lr ${d.dsmLr} (--sigma-max none: single-σ DSM`,
      `at --sigma, confining term ${d.scoreMatchingConfine}, ${d.scoreMatchingSteps} steps of ${d.batch}, lr ${d.lr}, the default above ${d.fourierMaxDim} columns).`,
      'About 25 s of CPU for cd (2–5 min wall on 2 heavily shared cores) and 15 s for dsm on 2-D data. After CD training',
      'a health check runs longer MALA chains from the negatives and warns when they drift (the energy is then not a',
      'density); --no-check skips it. Image data keeps the replay-buffer recipe (ULA, 20 steps of 1e-3, batch 128, lr 1e-3).',
    ].join('\n'))
    .requiredOption('--out <model.safetensors>', 'model file to write')
    .option('--arch <spec>', `mlp:D-H1-…-1 (e.g. mlp:2-128-128-1) or conv:CxHxW:C1,C2[:H] (e.g. conv:1x28x28:16,32:64); default mlp:D-${d.hidden.join('-')}-1`)
    .option('--fourier <m:scale|none>', `mlp only: feed the network random Fourier features [sin 2πzB, cos 2πzB] of the standardised input, m frequencies B ~ N(0, scale²) (default ${d.fourier.features}:${d.fourier.scale} for vectors with D ≤ ${d.fourierMaxDim}, else none)`, parseFourierOrNone)
    .option('--activation <name>', `activation (${ACTIVATIONS.join(', ')})`, parseChoice(ACTIVATIONS), d.activation)
    .option('--loss <loss>', 'training loss: cd (contrastive divergence), dsm (denoising score matching, --sigma), ssm / ssm-vr (sliced score matching, variance-reduced), sm (exact score matching, small D)', parseChoice(['cd', ...EBM_SCORE_LOSSES] as const), d.loss as Opts['loss'])
    .option('--sigma <s>', `--loss dsm: noise level σ in data units, the smallest one with --sigma-max (${vi(`${d.sigmaZ}·rms(std)`, im.sigma)})`, parsePositiveFloat)
    .option('--sigma-max <s|none>', `--loss dsm, mlp: largest noise level of a noise-conditional energy E(x, σ), data units; none: single-σ DSM (default ${d.sigmaMaxZ}·rms(std) for vectors with D ≤ ${d.fourierMaxDim}, else none)`, parsePositiveFloatOrNone)
    .option('--heat <w>', `--loss dsm with --sigma-max: weight of the heat-equation term ((τR)², R = ∂τE − ½(ΔE − ‖∇E‖²), τ = σ²; 0: none; default ${d.heat}); costs D network passes`, parseFloatValue)
    .option('--sampler <name>', `MCMC kernel for negatives: ula or mala (${vi(d.sampler, im.sampler)})`, parseChoice(['ula', 'mala'] as const))
    .option('--mcmc-steps <k>', `sampler steps per training step (${vi(d.mcmcSteps, im.mcmcSteps)})`, parsePositiveInt)
    .option('--step-size <s>', `sampler step size η (data units; ULA: x ← x − η∇E + √(2η)ξ) (${vi(`${d.stepSizeZ}·mean(std²)`, im.stepSize)})`, parsePositiveFloat)
    .option('--temperature <T>', 'buffer negatives and `ebm sample`: sampler temperature T (ULA: x ← x − (η/T)∇E + √(2η)ξ, i.e. gradient step η/T, noise √(2η)); T < 1 is the IGEBM/JEM decoupled step', parsePositiveFloat, 1)
    .option('--buffer <n>', 'replay-buffer size', parsePositiveInt, 10000)
    .option('--reinit <p>', 'fraction of chains restarted each step (default 0.05; tempered: 0, and only hottest replicas restart)', parseUnitInterval)
    .option('--reinit-from <src>', 'where restarted chains start: uniform (data box), data, normal', parseChoice(['uniform', 'data', 'normal'] as const), 'uniform')
    .option('--negatives <kind>', `buffer: replay buffer; tempered: persistent parallel-tempering chains (the T=1 replicas are the negatives) (${vi(d.negatives, im.negatives)})`, parseChoice(['buffer', 'tempered'] as const))
    .option('--t-max <t>', 'tempered: hottest temperature (geometric ladder from 1)', parsePositiveFloat, d.tMax)
    .option('--temps <k>', 'tempered: number of temperatures (≥ 2)', parsePositiveInt, d.temps)
    .option('--chains <n>', `tempered: persistent chains per temperature (${vi(d.chains, '--batch')})`, parsePositiveInt)
    .option('--ema <d>', `save an exponential moving average of the parameters with this decay; 0: none (cd: ${vi(d.ema, 'none')})`, parseUnitInterval)
    .option('--alpha <a>', 'energy-magnitude regulariser α(E⁺² + E⁻²)', parseFloatValue, 0)
    .option('--data-noise <s>', 'std of Gaussian noise added to data', parseFloatValue, 0)
    .option('--spectral-norm', 'spectral normalisation of the weights')
    .option('--sampler-clip <c>', "clip each chain's energy gradient to this norm in the sampler", parsePositiveFloat)
    .option('--clip <c>', 'clip parameter gradients to this global norm', parsePositiveFloat)
    .option('--epochs <e>', 'passes over the data (steps = ⌈epochs·rows/batch⌉)', parsePositiveFloat)
    .option('--steps <n>', `training steps (overrides --epochs; default ${d.steps} for cd on vectors, ${d.dsmSteps} for noise-conditional dsm, ${d.scoreMatchingSteps} for other score matching, ${im.steps} for images)`, parsePositiveInt)
    .option('--batch <n>', `positives per step (${vi(d.batch, im.batch)}; noise-conditional dsm ${d.dsmBatch})`, parsePositiveInt)
    .option('--lr <lr>', `Adam learning rate (${vi(d.lr, im.lr)}; noise-conditional dsm ${d.dsmLr})`, parsePositiveFloat)
    .option('--lr-decay <kind>', `learning-rate schedule: none (constant) or cosine (cosine decay from --lr to 5 % of it over the run) (${vi(d.lrDecay, im.lrDecay)})`, parseChoice(['none', 'cosine'] as const))
    .option('--confine <c>', `confining term ½c‖z‖² (default: vectors ${d.confine} (cd), ${d.dsmConfine} (noise-conditional dsm) or ${d.scoreMatchingConfine} (other score matching), images ${im.confine})`, parseFloatValue)
    .option('--max-rollbacks <n>', 'divergence rollbacks allowed before stopping', parsePositiveInt, 5)
    .option('--no-check', 'cd: skip the density health check after training')
    .option('--samples-png <file.png>', 'write model samples (replay buffer | from noise) as PNG (images: grids; 2-D: density heat map)');
  addTrainOutputOptions(cmd, { logFields: 'step, loss, gap, ePos, eNeg, gradNorm, lr, samplerDivergent, time', every: 'steps and at the end', grows: '--steps (with --lr-decay none)' });
  addDataOptions(cmd);
  addSeedOption(cmd);
  cmd.action((o: Opts) =>
    runCommand(ctx, async () => {
      const ckptPath = resolveTrainOutputs(o);
      if (o.samplesPng) checkOutputPath(o.samplesPng, '--samples-png', ['.png']);
      if (!(o.alpha >= 0)) throw new UsageError(`--alpha must be ≥ 0, got ${o.alpha}`);
      if (!(o.dataNoise >= 0)) throw new UsageError(`--data-noise must be ≥ 0, got ${o.dataNoise}`);
      const data = await loadDataFromOptions(o, trainDataKey(o.seed));
      if (data.rows < 2) throw new UsageError(`--data ${o.data}: needs at least 2 rows, got ${data.rows}`);
      if (o.arch === undefined) {
        if (data.imageShape) throw new UsageError(`--data ${o.data} holds images: give --arch (e.g. conv:1x${data.imageShape[0]}x${data.imageShape[1]}:16,32:64)`);
        o.arch = `mlp:${[data.cols, ...DEEP_EBM_DEFAULTS.hidden, 1].join('-')}`;
      }
      let arch;
      try {
        arch = parseArch(o.arch);
      } catch (e) {
        if (e instanceof ArchSpecError) throw new UsageError(`--arch: ${e.message}`);
        throw e;
      }
      const D = archInputSize(arch);
      if (data.cols !== D) throw new UsageError(`--data ${o.data}: rows have ${data.cols} values but --arch ${o.arch} takes ${D}`);
      const isImage = arch.kind === 'conv' || data.imageShape !== undefined;
      const imageShape: [number, number] | null = arch.kind === 'conv' ? [arch.shape[1], arch.shape[2]] : data.imageShape ?? null;
      const std = isImage ? { shift: [0], scale: [1] } : standardization(data.x);
      resolveDefaults(o, isImage, arch.kind === 'mlp' ? D : Infinity, std.scale);
      // Box for noise starts: the data range (toy sets: their bounds).
      let initLow: number[], initHigh: number[];
      if (isImage) { initLow = [0]; initHigh = [1]; }
      else if (data.bounds && D === 2) { initLow = [data.bounds[0], data.bounds[2]]; initHigh = [data.bounds[1], data.bounds[3]]; }
      else {
        initLow = []; initHigh = [];
        for (let j = 0; j < D; j++) {
          let lo = Infinity, hi = -Infinity;
          for (let i = 0; i < data.rows; i++) { const v = data.x.data[i * D + j]; lo = Math.min(lo, v); hi = Math.max(hi, v); }
          const pad = 0.1 * (hi - lo || 1);
          initLow.push(lo - pad); initHigh.push(hi + pad);
        }
      }
      if (o.fourier && arch.kind !== 'mlp') throw new UsageError('--fourier applies to mlp architectures only');
      if (o.fourier && !isImage && o.confine === 0) {
        throw new UsageError('--fourier with --confine 0: Fourier features are bounded, so without the confining term exp(−E) is not normalisable on unbounded data; use --confine > 0');
      }
      const fourier = o.fourier ? fourierFromOption(o.fourier, D, o.seed) : null;
      if (o.sigmaMax && arch.kind !== 'mlp') throw new UsageError('--sigma-max (a noise-conditional energy) applies to mlp architectures only; use --sigma-max none');
      if (o.sigmaMax && !(o.sigmaMax > o.sigma)) {
        throw new UsageError(`--sigma-max (${o.sigmaMax}) must be larger than --sigma (${o.sigma}): give a larger --sigma-max, or --sigma-max none for single-σ DSM (default --sigma-max: ${DEEP_EBM_DEFAULTS.sigmaMaxZ}·rms(std) on vectors with D ≤ ${DEEP_EBM_DEFAULTS.fourierMaxDim})`);
      }
      const noise = o.sigmaMax ? { sigmaMin: o.sigma, sigmaMax: o.sigmaMax } : null;
      const cfg: DeepEbmFileConfig = {
        arch, activation: o.activation, shift: std.shift, scale: std.scale, confine: o.confine, ...(fourier ? { fourier } : {}), ...(noise ? { noise } : {}),
        sampler: o.sampler, stepSize: o.stepSize, ...(o.temperature !== 1 ? { temperature: o.temperature } : {}), mcmcSteps: o.mcmcSteps, initLow, initHigh,
        clamp: isImage ? [0, 1] : null, imageShape,
      };
      const steps = o.steps ?? (o.epochs !== undefined ? Math.ceil((o.epochs * data.rows) / o.batch)
        : isImage ? DEEP_EBM_IMAGE_DEFAULTS.steps : deepEbmLossDefaults(o.loss, D, !!o.sigmaMax).steps);
      if (o.loss !== 'cd') return trainEbmByScoreMatching(ctx, { ...o, loss: o.loss }, data, cfg as DeepEbmFileConfig & Record<string, unknown>, steps, ckptPath, trainEbmMeta(o, steps));
      const [kInit, kRun, kSample] = split(makeKey(o.seed), 3);
      const reinitFrom: ReinitSource = o.reinitFrom === 'data' ? { kind: 'data', noise: 0 }
        : o.reinitFrom === 'normal' ? { kind: 'normal', mean: 0, std: 1 } : { kind: 'uniform', low: initLow, high: initHigh };
      if (o.negatives === 'tempered' && !(o.tMax > 1)) throw new UsageError(`--t-max must be > 1, got ${o.tMax}`);
      if (o.negatives === 'tempered' && o.temps < 2) throw new UsageError(`--temps must be ≥ 2, got ${o.temps}`);
      if (o.negatives === 'tempered' && o.temperature !== 1) throw new UsageError('--temperature applies to --negatives buffer (the tempered ladder starts at T = 1)');
      if (o.ema !== undefined && !(o.ema < 1)) throw new UsageError(`--ema must be in [0, 1), got ${o.ema}`);
      const chains = o.chains ?? o.batch;
      const tempered = o.negatives === 'tempered';
      const cd = contrastiveDivergence({
        energy: (p: Record<string, Tensor>) => deepEbmEnergy(p, cfg),
        sampler: deepEbmSamplerFor(cfg, o.stepSize, o.samplerClip),
        steps: o.mcmcSteps,
        negatives: o.negatives,
        ...(tempered ? {
          tempering: {
            temperatures: geometricTemperatures(o.tMax, o.temps), stepSize: o.stepSize, local: o.sampler,
            ...(o.samplerClip ? { maxGradNorm: o.samplerClip } : {}), ...(cfg.clamp ? { box: cfg.clamp } : {}),
          },
          chains,
        } : {}),
        bufferSize: o.buffer,
        reinit: o.reinit ?? (tempered ? 0 : 0.05),
        reinitFrom,
        alpha: o.alpha,
        dataNoise: o.dataNoise,
        spectralNorm: o.spectralNorm === true,
      });
      const meta = {
        ...trainEbmMeta(o, steps), sampler: o.sampler, mcmcSteps: o.mcmcSteps, stepSize: o.stepSize, ...(o.temperature !== 1 ? { temperature: o.temperature } : {}), buffer: o.buffer, reinit: o.reinit ?? null,
        reinitFrom: o.reinitFrom, negatives: o.negatives, tMax: o.tMax, temps: o.temps, chains: o.chains ?? null, ema: o.ema ?? null,
        alpha: o.alpha, dataNoise: o.dataNoise, spectralNorm: o.spectralNorm ?? false, samplerClip: o.samplerClip ?? null, maxRollbacks: o.maxRollbacks,
      };
      const resume = await loadResumePoint(o, ckptPath, DEEP_EBM_KIND, meta, steps,
        (done) => `--steps ${steps} is less than the ${done} steps already done in ${ckptPath}`);
      const params0 = initDeepEbm(kInit, cfg);
      if (resume) {
        try {
          checkResumeState(resume.state, resume.step, params0, o.ema !== undefined, D);
        } catch (e) {
          throw new DataError((e as Error).message, { file: ckptPath });
        }
      }
      const log = o.log ? openTrainLog(o.log, resume?.step) : undefined;
      const bar = progressBar(ctx.io, 'train', steps, o.quiet);
      const rollbacks: string[] = [];
      const t0 = performance.now();
      let res;
      const saveCkpt = ckptPath === undefined ? undefined : (st: DeepEbmResumeState<Record<string, Tensor>>): void => saveCheckpointSync(ckptPath, {
        kind: DEEP_EBM_KIND, step: st.step, key: kRun, state: st as unknown as StateTree, meta: { ...meta, config: cfg },
      });
      const irq = interruptRegion();
      // EBM_BACKEND=webgpu: each step's negatives (the K sampler steps, or the PT steps of tempered negatives), energies
      // and parameter gradient on the GPU (MLP or conv energies); the chain starts, buffer, guard and Adam stay the CPU
      // trainer's.
      const gpuWhy = deepEbmCdGpuUnsupported(cfg, cd.options);
      const sampler = { sampler: o.sampler, stepSize: o.stepSize, temperature: o.temperature, box: cfg.clamp, ...(o.samplerClip ? { maxGradNorm: o.samplerClip } : {}) };
      let backend: HotLoopBackend;
      try {
        const run = (valueAndGrad?: Parameters<typeof trainDeepEbmAsync<Record<string, Tensor>>>[0]['valueAndGrad']) => trainDeepEbmAsync({
          ...(valueAndGrad ? { valueAndGrad } : {}),
          params: params0, loss: cd, data: data.x, steps, batchSize: o.batch, key: kRun, lr: lrSchedule(o, steps),
          ...(resume ? { resume: resume.state as unknown as DeepEbmResumeState<Record<string, Tensor>> } : {}),
          ...(o.checkpointEvery !== undefined && saveCkpt ? { checkpointEvery: o.checkpointEvery, onCheckpoint: saveCkpt } : {}),
          ...(o.ema !== undefined ? { emaDecay: o.ema } : {}),
          ...(o.clip !== undefined ? { clipNorm: o.clip } : {}),
          guard: { maxRollbacks: o.maxRollbacks },
          logEvery: logInterval(steps),
          onLog: (r) => void log?.write({ ...r }),
          onRollback: rollbackReporter(rollbacks, (s) => ctx.io.stderr(s)),
          onStep: (t) => bar.update(t),
        }, { signal: irq.signal });
        ({ value: res, backend } = await runHotLoop(gpuWhy ?? ((gpu) => run(deepEbmCdValueAndGradGpu(gpu, cfg, cd, sampler))), () => run()));
      } catch (e) {
        bar.done();
        if (e instanceof TrainingDivergedError) throw new TrainingDivergedError(e.message, []); // exit 2, one line
        throw e;
      } finally {
        irq.leave();
      }
      bar.done();
      // SIGINT/SIGTERM: the step in progress finished; save it when checkpointing is on, then stop (exit 130/143)
      finishIfStopped(res, irq.received(), steps, o.checkpointEvery !== undefined ? saveCkpt : undefined, ckptPath);
      const seconds = (performance.now() - t0) / 1000;
      // Keep up to 1000 rows of the replay buffer (tempered: of the T = 1 chains, rows 0…C−1) in the model file.
      const buf = res.state.buffer!;
      const keep = Math.min(1000, tempered ? chains : buf.shape[0]);
      // With --spectral-norm the loss uses W/σ(W); save that function (σ by 100 power iterations on the final weights),
      // so that `ebm sample` and the samples below use the energy that was trained.
      const trained = res.emaParams ?? res.params;
      const finalParams = o.spectralNorm ? noGrad(() => spectralNormalize(trained, {}, 100).params) : trained;
      const tensors: Record<string, Tensor> = { ...finalParams, buffer: new Tensor(buf.data.slice(0, keep * D), [keep, D]) };
      await saveModel(o.out, {
        kind: DEEP_EBM_KIND,
        config: cfg,
        provenance: {
          data: o.data, seed: o.seed, steps, loss: 'cd', lr: o.lr, lrDecay: o.lrDecay, batch: o.batch, rows: data.rows, buffer: o.buffer, reinit: o.reinit ?? (tempered ? 0 : 0.05),
          alpha: o.alpha, rollbacks: res.events.length, negatives: o.negatives,
          ...(tempered ? { tMax: o.tMax, temps: o.temps, chains } : {}), ...(o.ema !== undefined ? { ema: o.ema } : {}),
        },
        tensors,
      });
      if (o.samplesPng) {
        const nShow = isImage ? 64 : 2000;
        const fromNoise = sampleDeepEbmFromNoise(finalParams, cfg, foldIn(kSample, 1), nShow, Math.max(o.mcmcSteps * 5, 100));
        const nBuf = Math.min(nShow, keep);
        const fromBuf = new Tensor(buf.data.slice(0, nBuf * D), [nBuf, D]);
        if (imageShape) {
          // Buffer samples on the left half, samples from noise on the right half of one grid (8 per row each).
          const both = new Float32Array((fromBuf.shape[0] + fromNoise.shape[0]) * D);
          const rowsB = fromBuf.shape[0], perRow = 8;
          let r = 0;
          for (let i = 0; i < Math.max(rowsB, fromNoise.shape[0]); i += perRow) {
            for (const src of [fromBuf, fromNoise]) {
              for (let j = i; j < Math.min(i + perRow, src.shape[0]); j++) both.set(src.data.subarray(j * D, (j + 1) * D), (r++) * D);
            }
          }
          const grid = new Tensor(both.subarray(0, r * D), [r, D]);
          const [h, w] = imageShape;
          const png = imageGridPng(new Tensor(Float32Array.from(grid.data, (v) => Math.min(1, Math.max(0, v))), grid.shape), { height: h, width: w, cols: 2 * perRow, scale: h <= 8 ? 8 : 2 });
          await writeFileAtomic(o.samplesPng, png);
        } else if (D === 2) {
          await writeFileAtomic(o.samplesPng, deepEbmDensityPng(finalParams, cfg, fromNoise));
        } else throw new UsageError('--samples-png needs image rows or 2-D data');
      }
      // Health check: do longer MALA chains from the negatives stay where they are (is exp(−E) their density)?
      let health: DensityHealth | null = null;
      if (o.check && !isImage) {
        health = densityHealthCheck(finalParams, cfg, new Tensor(buf.data.slice(0, keep * D), [keep, D]), data.x, foldIn(kSample, 2), { stepSize: o.stepSize });
        if (!health.ok) ctx.io.stderr(`warning: ${health.message}\n`);
      }
      const last = res.history[res.history.length - 1];
      const result = {
        model: o.out, kind: DEEP_EBM_KIND, arch: formatArch(arch), steps, resumedFrom: resume?.step ?? null, seconds, loss: last?.loss ?? null, energyGap: last?.gap ?? null,
        gradNorm: last?.gradNorm ?? null, rollbacks: res.events.length, samplesPng: o.samplesPng ?? null, log: o.log ?? null,
        health: health ? { ok: health.ok, driftMmd: health.driftMmd, dataMmd: health.dataMmd, energyDrift: health.energyDrift, steps: health.steps, chains: health.chains } : null,
        ...(health && !health.ok ? { warnings: [health.message] } : {}),
        backend,
      };
      printResult(ctx, o.json, result, () => [
        `trained deep-ebm ${formatArch(arch)} on ${o.data} (${data.rows} rows) for ${steps} steps in ${fmt(seconds)} s`,
        `final loss ${fmt(last?.loss ?? NaN)}, energy gap ${fmt(last?.gap ?? NaN)}, grad norm ${fmt(last?.gradNorm ?? NaN)}, rollbacks ${res.events.length}`,
        ...rollbacks,
        ...(health ? [health.message] : []),
        `model      ${o.out}`,
        ...(o.samplesPng ? [`samples    ${o.samplesPng}`] : []),
        ...backendLines(backend),
      ].join('\n'));
    }),
  );
}

/**
 * `--sigma-max s` or `--sigma-max none` (0: single-σ DSM, overriding the default; mapped to null by resolveDefaults —
 * commander turns a parser's null into '').
 */
function parsePositiveFloatOrNone(raw: string): number {
  return raw.trim() === 'none' ? 0 : parsePositiveFloat(raw);
}

/** `--fourier m:scale` or `--fourier none` (null: no features, overriding the default). */
function parseFourierOrNone(raw: string): { features: number; scale: number } | null {
  return raw.trim() === 'none' ? null : parseFourierSpec(raw);
}

/**
 * Fills every tuning option the user left out from the library's defaults ({@link DEEP_EBM_DEFAULTS} for vector data,
 * {@link DEEP_EBM_IMAGE_DEFAULTS} for images), in place, so that the run, its checkpoint meta and its model file all see
 * the resolved values. Step sizes and σ scale with the data's standardisation (`std`). CD-only options stay unset for
 * score-matching losses (they are refused there).
 */
function resolveDefaults(o: Opts, isImage: boolean, mlpInputs: number, std: readonly number[]): void {
  const d = DEEP_EBM_DEFAULTS, im = DEEP_EBM_IMAGE_DEFAULTS;
  const s2 = std.reduce((a, v) => a + v * v, 0) / std.length;
  const cd = o.loss === 'cd';
  const byLoss = deepEbmLossDefaults(o.loss, mlpInputs);
  if (o.loss !== 'dsm' && (o.sigmaMax || o.heat !== undefined)) throw new UsageError(`--sigma-max and --heat apply to --loss dsm only, not --loss ${o.loss}`);
  if (o.heat !== undefined && !(o.heat >= 0)) throw new UsageError(`--heat must be ≥ 0, got ${o.heat}`);
  if (o.sigmaMax === 0) o.sigmaMax = null;
  if (o.sigmaMax === undefined) o.sigmaMax = o.loss === 'dsm' && !isImage && byLoss.sigmaMaxZ !== null ? byLoss.sigmaMaxZ * Math.sqrt(s2) : null;
  const nc = o.sigmaMax !== null;
  const byNc = deepEbmLossDefaults(o.loss, mlpInputs, nc);
  if (nc) o.heat ??= d.heat;
  else if (o.heat !== undefined) throw new UsageError('--heat applies to a noise-conditional energy: give --sigma-max');
  o.batch ??= isImage ? im.batch : byNc.batch;
  o.lr ??= isImage ? im.lr : byNc.lr;
  o.lrDecay ??= isImage ? im.lrDecay : d.lrDecay;
  o.confine ??= isImage ? im.confine : byNc.confine;
  o.sigma ??= isImage ? im.sigma : d.sigmaZ * Math.sqrt(s2);
  if (o.fourier === undefined) o.fourier = !isImage && o.confine > 0 ? byLoss.fourier : null;
  o.sampler ??= isImage ? im.sampler : d.sampler;
  o.mcmcSteps ??= isImage ? im.mcmcSteps : d.mcmcSteps;
  o.stepSize ??= isImage ? im.stepSize : d.stepSizeZ * s2;
  if (cd) {
    o.negatives ??= isImage ? im.negatives : d.negatives;
    if (o.negatives === 'tempered') o.chains ??= isImage ? o.batch : d.chains;
    if (o.ema === undefined && !isImage) o.ema = d.ema;
  }
  if (o.ema === 0) o.ema = undefined;
}

/** Settings shared by the CD and score-matching paths that a resumed `ebm train ebm` must repeat exactly. */
export function trainEbmMeta(o: Opts, steps: number): Record<string, unknown> {
  return {
    data: o.data, n: o.n ?? null, limit: o.limit ?? null, ...(o.subset !== undefined ? { subset: o.subset } : {}), binarize: o.binarize ?? null, threshold: o.threshold ?? null, seed: o.seed,
    arch: o.arch, fourier: o.fourier ? `${o.fourier.features}:${o.fourier.scale}` : null, activation: o.activation, loss: o.loss,
    sigma: o.sigma, ...(o.sigmaMax ? { sigmaMax: o.sigmaMax, heat: o.heat } : {}),
    batch: o.batch, lr: o.lr, lrDecay: o.lrDecay, clip: o.clip ?? null, confine: o.confine ?? null,
    // A cosine schedule is a function of the total: it must not change on resume.
    ...(o.lrDecay === 'cosine' ? { steps } : {}),
  };
}

/**
 * Checks a loaded CD resume state: its step, the parameter (and EMA) layout, the guard statistics, the CD state's
 * chains (`[n, D]`) and the bookkeeping fields; throws an Error naming the first problem.
 */
function checkResumeState(state: StateTree, step: number, template: Record<string, Tensor>, wantEma: boolean, D: number): void {
  const s = state as unknown as Record<string, unknown>;
  const bad = (what: string): never => {
    throw new Error(`checkpoint state is not a usable deep-EBM training state: ${what}`);
  };
  if (s.step !== step) bad(`its step ${String(s.step)} differs from the checkpoint's step ${step}`);
  const layout = layoutOf(template);
  checkCheckpointParams(s.params, layout);
  if (wantEma !== (s.ema !== null && s.ema !== undefined)) bad(`it ${wantEma ? 'has no' : 'has a'} parameter EMA but --ema is ${wantEma ? '' : 'not '}given`);
  if (s.ema) checkCheckpointParams(s.ema, layout);
  const g = s.guard as Record<string, unknown> | undefined;
  if (!g || !['emaGap', 'emaGrad', 'healthy'].every((k) => typeof g[k] === 'number')) bad('guard statistics missing');
  if (typeof s.lrScale !== 'number' || !(s.lrScale > 0) || typeof s.stream !== 'number' || !Array.isArray(s.events)) bad('lrScale, stream or events missing');
  const cd = s.cd as Record<string, unknown> | undefined;
  if (!cd || typeof cd !== 'object' || typeof cd.step !== 'number') bad('CD state missing');
  const buf = cd!.buffer;
  if (buf !== null && (!(buf instanceof Tensor) || buf.ndim !== 2 || buf.shape[1] !== D || buf.dtype !== 'float32')) bad(`chains are not a float32 [n, ${D}] tensor`);
  if (s.optState === undefined || s.optState === null) bad('optimiser state missing');
}

export { DEEP_EBM_KIND, type DeepEbmFileConfig } from '../../models/deepEbm/kind.js';

registerTrainKind(registerTrainEbm);

/**
 * The contract every model kind fulfils for the registry ({@link ModelKindHandler}) and what a loaded model can do
 * ({@link LoadedModel}): the shared surface through which the CLI, the playground and a user's code use any model
 * file the same way. Types only; the registry itself is `src/models/registry.ts`.
 */
import type { Tensor } from '../tensor/tensor.js';
import type { Key } from '../random/key.js';
import type { ModelFile } from '../io/model.js';
import type { Dataset } from '../data/spec.js';
import type { GpuRun } from '../gpu/select.js';

/** Options passed to {@link LoadedModel.sample}; each kind documents which it uses and ignores the rest. */
export interface SampleOptions {
  key: Key;
  /** Number of samples. */
  n: number;
  /** MCMC steps (Langevin steps, Gibbs sweeps…) or reverse-time steps of a diffusion sampler. */
  steps?: number;
  /** MCMC step size, when relevant. */
  stepSize?: number;
  /** Named sampler of kinds that offer several (score-sde: `pc`, `ode`, `em`, `annealed`). */
  sampler?: string;
  /** Progress callback: `done` of `total` units. */
  onProgress?(done: number, total: number): void;
  /** Class-conditional kinds (see {@link LoadedModel.classes}): sample from `p(x | y = classes[classIndex])`. */
  classIndex?: number;
}

/** One per-row score column of {@link LoadedModel.scoreColumns}, with the direction that means "more anomalous". */
export interface ScoreColumn {
  name: string;
  values: Float64Array;
  anomalous: 'higher' | 'lower';
}

/** Options passed to {@link LoadedModel.evaluate}; each kind documents which it uses and ignores the rest. */
export interface EvalOptions {
  key: Key;
  /** Grid resolution per axis for quadrature (2-D kinds). */
  gridRes?: number;
  /** RBMs: how `log Z` is computed: exact enumeration or annealed importance sampling (default: exact when feasible). */
  logz?: 'exact' | 'ais';
  /** RBMs, AIS: number of β intervals of the Salakhutdinov–Murray schedule (≥ 29). */
  aisBetas?: number;
  /** RBMs, AIS: number of independent annealing runs. */
  aisRuns?: number;
  /** score-sde: likelihood method (`ode`, the only one). */
  nll?: string;
  /** score-sde: RK45 tolerance `rtol = atol` of the ODE likelihood (default 1e-5). */
  odeTol?: number;
  /** Receives non-numeric details of the evaluation (e.g. the `protocol` record), merged into the command's result. */
  report?: Record<string, unknown>;
}

/** Options passed to {@link LoadedModel.plot}. */
export interface PlotOptions {
  /** Samples to draw on top, data space `[n, d]`. */
  samples?: Tensor;
  /** Pixels per grid cell. */
  scale?: number;
  /** Grid resolution per axis. */
  gridRes?: number;
}

/** A model loaded from a file, with what its kind can do. */
export interface LoadedModel {
  kind: string;
  file: ModelFile;
  /** Dimension of one data row. */
  dim: number;
  /** `[h, w]` when rows are images (used to write PNG grids). */
  imageShape?: [number, number];
  /** A one-line human description (architecture, training data). */
  describe(): string;
  /** Draws `n` samples `[n, dim]` (absent for kinds without a sampler, e.g. `rbm-cf`). */
  sample?(opts: SampleOptions): Tensor;
  /** The same draw as {@link sample} run on the WebGPU device (`EBM_BACKEND=webgpu`), or why this model cannot. */
  sampleGpu?(opts: SampleOptions): GpuRun<Tensor> | string;
  /** Per-row score of data `x [n, dim]`: the energy `E(x)` (lower = more probable). */
  energy?(x: Tensor): Float64Array;
  /** Figures on a data set (e.g. `avgLogLik`, `logZ`, `avgEnergy`). */
  evaluate?(data: Dataset, opts: EvalOptions): Record<string, number>;
  /** A PNG picture of the model (e.g. 2-D density heat map with samples, RBM filters). */
  plot?(opts: PlotOptions): Uint8Array;
  /** Class-conditional kinds (JEM): the label value of each class, for `ebm sample --class`. */
  classes?: readonly number[];
  /** Extra per-row scores for `ebm score` (e.g. JEM's log p(x) and max p(y|x)), beside the energy. */
  scoreColumns?(x: Tensor): ScoreColumn[];
  /** {@link energy} and {@link scoreColumns} of `x` computed on the WebGPU device (`EBM_BACKEND=webgpu`), or why this model cannot. */
  scoreGpu?(x: Tensor): GpuRun<{ energy: Float64Array; columns: ScoreColumn[] }> | string;
  /** Reads labels off the data (e.g. a CSV label column, `labelColumn` or the one used in training) before use. */
  prepareData?(data: Dataset, labelColumn?: string): Dataset;
}

/** A model kind: its name and how to load it from a decoded model file. */
export interface ModelKindHandler {
  kind: string;
  /** One line for help texts. */
  description: string;
  /** Builds a {@link LoadedModel}, validating config and tensor layout (DataError naming `path` on mismatch). */
  fromFile(file: ModelFile, path: string): LoadedModel;
}

/** Messages between the page (main thread) and the compute worker. All numbers are plain; arrays are transferred. */

/** Gradient-based samplers offered in the Sample tab. */
export type SamplerKind = 'ula' | 'mala' | 'hmc' | 'annealed';
/** Training objectives offered in the Train tab. */
export type LossKind = 'cd' | 'dsm' | 'ssm';
/** The tabs of `modes.ts`: CD with Langevin negatives, score SDE, JEM. */
export type ModeTab = 'ebm' | 'sde' | 'jem';
/** The tab whose task the worker runs. */
export type Tab = 'sample' | 'train' | 'rbm' | ModeTab;

/** Settings of the mode tabs. */
export interface ModeParams {
  /** CD: replay buffer or parallel-tempering chains. */
  negatives: 'buffer' | 'tempered';
  /** CD: sampler steps (tempered: PT transitions) per training step. */
  mcmcSteps: number;
  /** JEM: samples per class and SGLD steps per sample. */
  jemPerClass: number;
  jemSgldSteps: number;
}

/** Sampler settings (sliders). */
export interface SamplerParams {
  kind: SamplerKind;
  /** Step size η (ULA, MALA), leapfrog ε (HMC), or η with level steps `αᵢ = η·σᵢ²` (annealed). */
  stepSize: number;
  temperature: number;
  /** Sampler steps per animation frame. */
  stepsPerFrame: number;
  chains: number;
}

/** Training settings. */
export interface TrainParams {
  loss: LossKind;
  lr: number;
  batch: number;
  /** Hidden widths of the MLP energy. */
  hidden: number[];
  /** DSM noise level (standardised units). */
  sigma: number;
  /** CD: Langevin steps per update and their step size (standardised units). */
  cdSteps: number;
  cdStepSize: number;
}

/** RBM settings. */
export interface RbmParams {
  data: 'digits' | 'bars';
  hidden: number;
  lr: number;
  /** Gibbs sweeps per frame of the fantasy particles. */
  sweeps: number;
}

/** Main → worker. */
export type ToWorker =
  | { type: 'target'; id: string }
  | { type: 'tab'; tab: Tab }
  | { type: 'sampler'; cmd: 'start' | 'stop' | 'reset' | 'params'; params: SamplerParams }
  | { type: 'train'; cmd: 'start' | 'stop' | 'reset' | 'params'; params: TrainParams }
  | { type: 'rbm'; cmd: 'start' | 'stop' | 'reset' | 'params'; params: RbmParams }
  | { type: 'mode'; mode: ModeTab; cmd: 'start' | 'stop' | 'reset' | 'params' | 'sample'; params: ModeParams }
  | { type: 'export' }
  | { type: 'load'; name: string; bytes: ArrayBuffer };

/** A heat map: energies on a `res × res` grid over `bounds`, row 0 at the top (`y = ymax`). */
export interface HeatmapMsg {
  type: 'heatmap';
  source: 'target' | 'model';
  res: number;
  bounds: [number, number, number, number];
  energy: Float32Array;
  /** Divide energies by this before display (the sampler temperature, 1 for models). */
  temperature: number;
}

/** Worker → main. */
export type FromWorker =
  | { type: 'ready'; backend: string }
  /**
   * Where the Train tab runs. `label`: the model-sample chains, `WebGPU (adapter …)` or `CPU (reason)`; GPU chain runs
   * so far; `check`: max |x_GPU − x_CPU| of the first-view self-check. `training`: where the training steps run (the
   * same forms); `trainSteps`: training steps run on the GPU so far; `trainCheck`: max |θ_GPU − θ_CPU| after the first
   * GPU step against the CPU step from the same state, batch and key.
   */
  | { type: 'gpu'; label: string; webgpu: boolean; views: number; check: number | null; training: string; trainSteps: number; trainCheck: number | null }
  | HeatmapMsg
  | { type: 'points'; layer: 'chains' | 'data' | 'model'; pts: Float32Array }
  | { type: 'samplerStats'; running: boolean; steps: number; acceptance: number | null; ess: number | null; essWindow: number; divergent: number; sigma: number | null; msPerStep: number }
  | { type: 'trainStats'; running: boolean; step: number; losses: number[]; lossName: string; msPerStep: number; info: string }
  | { type: 'rbmFrame'; running: boolean; step: number; particles: Float32Array; data: Float32Array; n: number; recon: number[] }
  | { type: 'exported'; name: string; bytes: ArrayBuffer }
  | { type: 'modelInfo'; text: string }
  /** A mode's progress: new losses, the figures the CLI would print (label, value), the equivalent CLI command. */
  | { type: 'modeStats'; mode: ModeTab; running: boolean; step: number; losses: number[]; figures: [string, string][]; cli: string; info: string }
  /** JEM: class-conditional samples `[10·perClass, 64]`, class c in rows c·perClass … */
  | { type: 'jemFrame'; samples: Float32Array; perClass: number }
  | { type: 'error'; message: string };

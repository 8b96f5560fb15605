/**
 * The page side of the CD, Score SDE and JEM tabs (see `modes.ts`): their controls, the figures the CLI would print,
 * the loss charts, and the JEM sample grid. Draws only what the worker posts.
 */
import type { FromWorker, ModeParams, ModeTab, ToWorker } from './protocol.js';

/** What a mode tab shows the tests (`window.__ebm.modes`). */
export interface ModeHook {
  step: number;
  running: boolean;
  losses: number;
  /** Every loss received, in order (cleared on reset). */
  history: number[];
  figures: Record<string, string>;
  frames: number;
}

/** What the page lends this module. */
export interface ModesUiEnv {
  send(m: ToWorker): void;
  drawChart(id: string, raw: readonly number[], title: string): void;
  setStatus(text: string, running: boolean): void;
  currentTab(): string;
  hooks: Record<ModeTab, ModeHook>;
}

const MODES: readonly ModeTab[] = ['ebm', 'sde', 'jem'];
const TITLES: Record<ModeTab, string> = { ebm: 'CD loss E(x⁺) − E(x⁻) + α·reg', sde: 'Continuous DSM loss (VP SDE, λ = σ²)', jem: 'JEM loss (CE + 0.1·CD)' };
const histories: Record<ModeTab, number[]> = { ebm: [], sde: [], jem: [] };

const el = <T extends HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page is missing element #${id}`);
  return e as T;
};

/** Empty hooks for the three modes. */
export function emptyModeHooks(): Record<ModeTab, ModeHook> {
  const h = (): ModeHook => ({ step: 0, running: false, losses: 0, history: [], figures: {}, frames: 0 });
  return { ebm: h(), sde: h(), jem: h() };
}

/** The settings of the mode panels. */
export function modeParams(): ModeParams {
  return {
    negatives: el<HTMLSelectElement>('ebm-negatives').value as ModeParams['negatives'],
    mcmcSteps: Number(el<HTMLInputElement>('ebm-mcmc').value),
    jemPerClass: 8,
    jemSgldSteps: Number(el<HTMLInputElement>('jem-sgld').value),
  };
}

function showOutputs(): void {
  const p = modeParams();
  el('ebm-mcmc-out').textContent = String(p.mcmcSteps);
  el('jem-sgld-out').textContent = String(p.jemSgldSteps);
}

/** Wires the mode panels' controls. */
export function wireModes(env: ModesUiEnv): void {
  const send = (mode: ModeTab, cmd: 'start' | 'stop' | 'reset' | 'params' | 'sample'): void => env.send({ type: 'mode', mode, cmd, params: modeParams() });
  for (const id of ['ebm-negatives', 'ebm-mcmc', 'jem-sgld']) {
    el(id).addEventListener('input', showOutputs);
    el(id).addEventListener('change', () => { showOutputs(); send(id.startsWith('ebm') ? 'ebm' : 'jem', 'params'); });
  }
  for (const mode of MODES) {
    el(`${mode}-start`).addEventListener('click', () => send(mode, env.hooks[mode].running ? 'stop' : 'start'));
    el(`${mode}-reset`).addEventListener('click', () => send(mode, 'reset'));
    env.drawChart(`${mode}-chart`, [], TITLES[mode]);
  }
  // The CLI recipes: 20 ULA steps per update with a buffer, 5 PT transitions (each a move at all 6 temperatures) tempered.
  el('ebm-negatives').addEventListener('change', () => {
    el<HTMLInputElement>('ebm-mcmc').value = el<HTMLSelectElement>('ebm-negatives').value === 'tempered' ? '5' : '20';
    showOutputs();
    send('ebm', 'params');
  });
  el('sde-sample').addEventListener('click', () => send('sde', 'sample'));
  showOutputs();
}

/** Shows a mode's stats message. */
export function onModeStats(env: ModesUiEnv, m: Extract<FromWorker, { type: 'modeStats' }>): void {
  if (m.info === 'reset') histories[m.mode] = [];
  histories[m.mode].push(...m.losses);
  const h = env.hooks[m.mode];
  h.step = m.step;
  h.running = m.running;
  h.losses = histories[m.mode].length;
  h.history = histories[m.mode];
  h.figures = Object.fromEntries(m.figures);
  el(`${m.mode}-figures`).innerHTML = m.figures.map(([k, v]) => `<tr><td>${k}</td><td>${v}</td></tr>`).join('');
  el(`${m.mode}-cli`).textContent = m.cli ? `$ ${m.cli}` : '';
  const training = m.running && (m.mode !== 'sde' || m.losses.length > 0);
  el(`${m.mode}-start`).textContent = training ? 'Stop' : histories[m.mode].length ? 'Resume' : m.mode === 'jem' ? 'Train JEM' : 'Train';
  if (m.losses.length || m.info === 'reset') env.drawChart(`${m.mode}-chart`, histories[m.mode], TITLES[m.mode]);
  if (env.currentTab() === m.mode) env.setStatus(m.running ? `${m.mode === 'ebm' ? 'CD' : m.mode.toUpperCase()} · step ${m.step}` : 'idle', m.running);
}

/** Draws the JEM sample grid: row c holds the samples of class c. */
export function onJemFrame(env: ModesUiEnv, m: Extract<FromWorker, { type: 'jemFrame' }>): void {
  env.hooks.jem.frames++;
  const cv = el<HTMLCanvasElement>('jem-samples');
  const c = cv.getContext('2d')!;
  const cols = m.perClass, rows = 10;
  const label = 24;
  const cell = Math.floor(Math.min((cv.width - label) / cols, cv.height / rows));
  const px = Math.floor((cell - 2) / 8);
  c.fillStyle = '#fff';
  c.fillRect(0, 0, cv.width, cv.height);
  c.fillStyle = '#98a2b3';
  c.fillRect(label, 0, cols * cell, rows * cell);
  c.font = '13px system-ui, sans-serif';
  c.textBaseline = 'middle';
  for (let r = 0; r < rows; r++) {
    c.fillStyle = '#475467';
    c.fillText(String(r), 6, r * cell + cell / 2);
    for (let k = 0; k < cols; k++) {
      const s = r * cols + k;
      const ox = label + k * cell + 1, oy = r * cell + 1;
      c.fillStyle = '#1d2330';
      c.fillRect(ox, oy, 8 * px, 8 * px);
      for (let i = 0; i < 64; i++) {
        const v = Math.round(255 * m.samples[s * 64 + i]);
        c.fillStyle = `rgb(${v},${v},${v})`;
        c.fillRect(ox + (i % 8) * px, oy + Math.floor(i / 8) * px, px, px);
      }
    }
  }
}

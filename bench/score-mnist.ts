/**
 * A VP-SDE score model on MNIST through the CLI: `ebm train score` (time-conditioned MLP on 28×28 digits scaled to
 * [−1, 1]), `ebm sample … --out docs/images/vp-sde-mnist.png` (a grid of 64 samples) and `ebm eval --nll ode` on
 * held-out test digits (bits/dim of uniformly dequantised data). Prints the exact commands it ran and writes a section
 * into bench/RESULTS.md between `<!-- score-mnist:start -->` and `<!-- score-mnist:end -->` (unless `--no-write`).
 *
 * Usage: `npx tsx bench/score-mnist.ts [--steps N] [--arch mlp:H,H] [--batch B] [--lr LR] [--ema D] [--sampler em|pc|ode|annealed]
 *        [--sample-steps N] [--eval-rows N] [--png PATH] [--model PATH] [--quick] [--no-write]`
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';

interface Args {
  steps: number; arch: string; batch: number; lr: number; ema: number; sampler: string; sampleSteps: number; evalRows: number;
  png: string; model: string; write: boolean; seed: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    steps: 6000, arch: 'mlp:512,512', batch: 128, lr: 1e-3, ema: 0.999, sampler: 'em', sampleSteps: 500, evalRows: 100,
    png: 'docs/images/vp-sde-mnist.png', model: join(tmpdir(), 'vp-sde-mnist.safetensors'), write: true, seed: 0,
  };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${f} needs a value`);
      return v;
    };
    if (f === '--steps') a.steps = Number(val());
    else if (f === '--arch') a.arch = val();
    else if (f === '--batch') a.batch = Number(val());
    else if (f === '--lr') a.lr = Number(val());
    else if (f === '--ema') a.ema = Number(val());
    else if (f === '--sampler') a.sampler = val();
    else if (f === '--sample-steps') a.sampleSteps = Number(val());
    else if (f === '--eval-rows') a.evalRows = Number(val());
    else if (f === '--png') a.png = val();
    else if (f === '--model') a.model = val();
    else if (f === '--seed') a.seed = Number(val());
    else if (f === '--no-write') a.write = false;
    else if (f === '--quick') Object.assign(a, { steps: 50, arch: 'mlp:64', sampleSteps: 50, evalRows: 4, png: join(tmpdir(), 'vp-sde-mnist-quick.png'), write: false });
    else throw new Error(`unknown flag ${f}`);
  }
  return a;
}

async function ebm(args: string[]): Promise<{ cmd: string; out: Record<string, unknown>; seconds: number }> {
  let out = '';
  let err = '';
  const cmd = `ebm ${args.join(' ')}`;
  console.error(`$ ${cmd}`);
  const t0 = performance.now();
  const code = await main([...args, '--json'], { stdout: (s) => void (out += s), stderr: (s) => void (err += s), stderrIsTTY: false });
  if (code !== 0) throw new Error(`${cmd} failed (${code}): ${err}`);
  return { cmd, out: JSON.parse(out) as Record<string, unknown>, seconds: (performance.now() - t0) / 1000 };
}

async function mainBench(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const train = await ebm(['train', 'score', '--sde', 'vp', '--arch', a.arch, '--data', 'mnist:train', '--steps', String(a.steps), '--batch', String(a.batch),
    '--lr', String(a.lr), ...(a.ema > 0 ? ['--ema', String(a.ema)] : []), '--seed', String(a.seed), '--quiet', '--out', a.model]);
  console.error(`trained in ${train.seconds.toFixed(0)} s, final loss ${String(train.out.loss)}`);
  const sample = await ebm(['sample', a.model, '--sampler', a.sampler, '--steps', String(a.sampleSteps), '--n', '64', '--seed', String(a.seed), '--out', a.png]);
  console.error(`sampled in ${sample.seconds.toFixed(0)} s → ${a.png}`);
  const ev = await ebm(['eval', a.model, '--data', 'mnist:test', '--limit', String(a.evalRows), '--nll', 'ode', '--ode-tol', '1e-3', '--seed', String(a.seed)]);
  const o = ev.out;
  console.error(`bits/dim ${String(o.bitsPerDim)} (${String(o.dequantization)})`);
  const text = [
    '## VP-SDE score model on MNIST (`bench/score-mnist.ts`)',
    '',
    'Commands (run in-process by the bench; the same as the `ebm` binary):',
    '',
    '```',
    `${train.cmd}   # ${train.seconds.toFixed(0)} s, final loss ${Number(train.out.loss).toFixed(4)}`,
    `${sample.cmd}   # ${sample.seconds.toFixed(0)} s`,
    `${ev.cmd}   # ${ev.seconds.toFixed(0)} s`,
    '```',
    '',
    `| test digits | avg log-lik (nats/image, dequantised, [−1, 1]) | ± s.e. | bits/dim | NFE | ODE tolerance |`,
    '|---:|---:|---:|---:|---:|---:|',
    `| ${String(o.rows)} | ${Number(o.avgLogLik).toFixed(1)} | ${Number(o.avgLogLikStdErr).toFixed(1)} | ${Number(o.bitsPerDim).toFixed(3)} | ${String(o.nfe)} | 1e-3 |`,
    '',
    `Dequantisation: ${String(o.dequantization)}. Divergence by one Rademacher Hutchinson probe per row (unbiased for the ` +
      'integrand). Bits/dim is an upper bound for the discrete model; it is a small-sample figure (only the first ' +
      `${a.evalRows} test digits) from a short run, not comparable to published numbers. Samples: \`${a.png}\`.`,
  ].join('\n');
  console.log(text);
  if (a.write) {
    const path = new URL('./RESULTS.md', import.meta.url);
    const cur = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmark results\n';
    const block = `<!-- score-mnist:start -->\n${text}\n<!-- score-mnist:end -->`;
    const re = /<!-- score-mnist:start -->[\s\S]*?<!-- score-mnist:end -->/;
    writeFileSync(path, re.test(cur) ? cur.replace(re, block) : `${cur.replace(/\n*$/, '\n\n')}${block}\n`);
    console.error('wrote bench/RESULTS.md');
  }
}

await mainBench();

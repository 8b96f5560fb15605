/**
 * Checks every WGSL kernel against the CPU backend on this machine's WebGPU adapter and prints one JSON line:
 * `{ available, reason?, adapter?, checks: [{ name, ok, detail }] }`. Run by test/gpu/kernels.test.ts in a child
 * process (Dawn's threads and Vitest's worker pool do not mix), and usable by hand:
 *   npx tsx test/gpu/checkKernels.ts
 * Without a GPU, SwiftShader (Debian's chromium-common ships its Vulkan driver; libvulkan1 is the loader) is used
 * when present.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { GpuKernels, GPU_UNARY_OPS, GPU_BINARY_OPS } from '../../src/gpu/kernels.js';
import { releaseGpu } from '../../src/gpu/device.js';
import { key, split } from '../../src/random/index.js';
import { uniformArray } from '../../src/random/sample.js';
import { getBackend } from '../../src/tensor/backend.js';
import { initBackend } from '../../src/tensor/select.js';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;
if (!process.env.XDG_RUNTIME_DIR) {
  process.env.XDG_RUNTIME_DIR = '/tmp/ebm-ts-xdg';
  mkdirSync(process.env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
}
initBackend();

function rand(seed: number, n: number, lo = -3, hi = 3): Float32Array {
  const u = uniformArray(key(seed), n, 'float32');
  return u.map((v) => lo + (hi - lo) * v);
}

/** '' when |got − want| ≤ atol + rtol·|want| everywhere, else the worst index and values. */
function close(got: Float32Array, want: Float32Array, rtol: number, atol: number): string {
  if (got.length !== want.length) return `length ${got.length} ≠ ${want.length}`;
  let worst = -1, worstErr = 0;
  for (let i = 0; i < want.length; i++) {
    if (got[i] === want[i] || (Number.isNaN(got[i]) && Number.isNaN(want[i]))) continue; // equal, incl. ±∞ and NaN
    const err = Math.abs(got[i] - want[i]) - (atol + rtol * Math.abs(want[i]));
    if (!(err <= 0) && (worst < 0 || err > worstErr)) { worst = i; worstErr = err; }
  }
  return worst < 0 ? '' : `index ${worst}: got ${got[worst]}, want ${want[worst]}`;
}

const checks: { name: string; ok: boolean; detail: string }[] = [];
const check = (name: string, detail: string): void => { checks.push({ name, ok: detail === '', detail }); };

const made = await GpuKernels.create();
if (!(made instanceof GpuKernels)) {
  console.log(JSON.stringify({ available: false, reason: made.reason, checks }));
} else {
  const gpu = made;
  const cpu = getBackend();

  // Philox uniforms: bit-identical to uniformArray for several keys and lengths (incl. partial blocks).
  for (const [seed, n] of [[0, 1], [1, 7], [2, 4096], [3, 100_003]] as const) {
    const kk = split(key(seed), 3)[2];
    const got = await gpu.uniform(kk, [n]).read();
    const want = uniformArray(kk, n, 'float32');
    check(`philox uniform n=${n}`, Buffer.from(got.buffer).equals(Buffer.from(want.buffer)) ? '' : close(got, want, 0, 0) || 'bits differ');
  }

  // Every unary kernel, including the stable branches at ±80 and tiny arguments.
  const x = rand(10, 4000);
  x.set([80, -80, 30, -30, 0, 1e-30, -1e-30], 0);
  const xs = gpu.upload(x);
  for (const op of GPU_UNARY_OPS) {
    const input = op === 'log' || op === 'sqrt' ? x.map(Math.abs) : x;
    const xin = input === x ? xs : gpu.upload(input);
    const want = new Float32Array(input.length);
    cpu.unary(op, input, want);
    // exp/log in WGSL are accurate to a few ulp: 2e-6 relative covers SwiftShader and hardware drivers.
    check(`unary ${op}`, close(await gpu.unary(op, xin).read(), want, 2e-6, 1e-37));
  }

  // Every binary kernel, with full, row and scalar broadcasting.
  const a = rand(11, 6 * 50);
  for (const [label, b] of [['full', rand(12, 6 * 50, 0.5, 2)], ['row', rand(13, 50, 0.5, 2)], ['scalar', rand(14, 1, 0.5, 2)]] as const) {
    const ga = gpu.upload(a, [6, 50]), gb = gpu.upload(b);
    for (const op of GPU_BINARY_OPS) {
      const want = new Float32Array(a.length);
      cpu.binary(op, a, b, want);
      check(`binary ${op} (${label})`, close(await gpu.binary(op, ga, gb).read(), want, 1e-7, 0));
    }
  }

  // Matmul with every transpose combination, sizes that are not tile multiples.
  for (const [m, kk, n] of [[1, 1, 1], [17, 33, 5], [64, 784, 40]] as const) {
    for (const ta of [false, true]) for (const tb of [false, true]) {
      const A = rand(20 + m, m * kk), B = rand(30 + n, kk * n);
      const ga = gpu.upload(A, ta ? [kk, m] : [m, kk]), gb = gpu.upload(B, tb ? [n, kk] : [kk, n]);
      const want = new Float32Array(m * n);
      cpu.gemm(ta, tb, m, n, kk, 1, A, 0, ta ? m : kk, B, 0, tb ? kk : n, 0, want, 0, n);
      const c = gpu.matmul(ga, gb, { transA: ta, transB: tb });
      const shape = c.shape.join('×') === `${m}×${n}` ? '' : `shape ${c.shape.join('×')}`;
      // A length-k float32 dot product of terms ≤ 9: error grows like √k ulps of the sum of |terms|.
      check(`matmul ${m}×${kk}×${n}${ta ? ' Aᵀ' : ''}${tb ? ' Bᵀ' : ''}`, shape || close(await c.read(), want, 1e-5 * Math.sqrt(kk), 9e-6 * Math.sqrt(kk)));
    }
  }

  // Column sums.
  const xr = rand(40, 300 * 7);
  const wantSums = new Float32Array(7);
  cpu.sumRows(xr, 300, 7, wantSums);
  check('sumRows 300×7', close(await gpu.sumRows(gpu.upload(xr, [300, 7])).read(), wantSums, 1e-5, 1e-4));

  // Shapes that do not fit are refused, naming the op.
  const bad = gpu.upload(new Float32Array(6), [2, 3]);
  const refuses = (f: () => unknown, re: RegExp): string => {
    try { f(); return 'did not throw'; } catch (e) { return re.test((e as Error).message) ? '' : `threw: ${(e as Error).message}`; }
  };
  check('matmul refuses mismatched inner sizes', refuses(() => gpu.matmul(bad, bad), /gpu\.matmul: inner sizes differ/));
  check('binary refuses a non-dividing size', refuses(() => gpu.binary('add', bad, gpu.upload(new Float32Array(4))), /must divide/));

  console.log(JSON.stringify({ available: true, adapter: gpu.info.adapter, software: gpu.info.software, checks }));
  await releaseGpu();
}

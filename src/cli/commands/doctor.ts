/** `ebm doctor`: what the toolkit runs on — backend, BLAS, measured GEMM speed, Node, cores, data sets available. */
import { availableParallelism, cpus } from 'node:os';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { backendInfo, measureGemmGflops } from '../../tensor/select.js';
import { ebmTsVersion } from '../../io/model.js';
import { FASHION_MNIST_DIR, mnistDataDir } from '../../data/mnist.js';
import { printResult, runCommand, type CliContext } from '../context.js';
import { parsePositiveFloat } from '../options.js';
import { fmt } from '../common.js';
import { gpuReport } from '../../gpu/select.js';

/** Registers `ebm doctor [--json] [--seconds S]`. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('doctor')
    .description('report the compute backend, BLAS, measured GEMM GFLOP/s (256×784×500 float32), Node version and cores')
    .option('--json', 'print one JSON object')
    .option('--seconds <s>', 'time spent measuring GEMM (default 0.5)', parsePositiveFloat, 0.5)
    .action((o: { json?: boolean; seconds: number }) =>
      runCommand(ctx, async () => {
        const info = backendInfo();
        // C[256×500] = A[256×784]·B[784×500]: one MNIST-sized batch through a 784→500 layer.
        const gflops = measureGemmGflops(256, 500, 784, 'float32', o.seconds);
        let mnist = false;
        try {
          mnist = existsSync(mnistDataDir());
        } catch {
          mnist = false;
        }
        const result = {
          ebmTs: ebmTsVersion(),
          backend: info.backend,
          blas: info.blas,
          blasLinked: info.blasLinked ?? false,
          blasLibrary: info.blasLibrary ?? null,
          gemmKernel: info.gemm,
          gemmPolicy: info.gemmPolicy ?? null,
          simd: info.simd ?? null,
          threads: info.threads ?? 1,
          nativeAvailable: info.nativeAvailable,
          nativeError: info.nativeError ?? null,
          gemm: { m: 256, k: 784, n: 500, dtype: 'float32', gflops },
          node: process.versions.node,
          platform: `${process.platform}-${process.arch}`,
          cores: typeof availableParallelism === 'function' ? availableParallelism() : cpus().length,
          datasets: { mnist, fashionMnist: existsSync(FASHION_MNIST_DIR) },
          gpu: await gpuReport(),
        };
        printResult(ctx, o.json, result, () =>
          [
            `ebm-ts      ${result.ebmTs}`,
            `backend     ${result.backend}${info.simd ? ` (${info.simd})` : ''}${!info.nativeAvailable && info.nativeError ? ` — native unavailable: ${info.nativeError}` : ''}`,
            `GEMM kernel ${info.gemm}${info.gemmPolicy ? ` — ${info.gemmPolicy}` : ''}`,
            `BLAS        ${info.blasLinked ? `linked: ${info.blasLibrary ?? 'yes'}${info.blas ? ' (in use)' : ' (not in use; EBM_GEMM=openblas selects it)'}` : 'not linked'}`,
            `threads     ${result.threads}`,
            `GEMM        ${fmt(gflops)} GFLOP/s (256×784 · 784×500, float32)`,
            `node        ${result.node} on ${result.platform}`,
            `cores       ${result.cores}`,
            `gpu         ${result.gpu.available ? `${result.gpu.adapter}${result.gpu.software ? ' — software, correct but not fast' : ''}` : `none — ${result.gpu.reason}`}`,
            `data sets   mnist: ${mnist ? 'yes' : 'no'}, fashion-mnist: ${result.datasets.fashionMnist ? 'yes' : `no (apt-get install dataset-fashion-mnist)`}`,
          ].join('\n'),
        );
      }),
    );
}

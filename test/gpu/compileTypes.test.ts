/** The public types of the traced `compile` (no device needed): device arguments and results mirror `fn`'s trees. */
import { describe, expectTypeOf, it } from 'vitest';
import type { Tensor } from '../../src/tensor/index.js';
import type { GpuKernels, GpuTensor } from '../../src/gpu/kernels.js';
import { compile, type CompiledFn, type DeviceResult } from '../../src/gpu/compile.js';

describe('compile types', () => {
  it('maps CPU tensors to device tensors in arguments and results', () => {
    type Params = { readonly w: Tensor; readonly b: Tensor };
    type F = CompiledFn<[Params, Tensor], [Tensor, Params]>;
    expectTypeOf<DeviceResult<[Tensor, Params]>>().toEqualTypeOf<readonly [GpuTensor, { readonly w: GpuTensor; readonly b: GpuTensor }]>();
    expectTypeOf<Parameters<F>[1]>().toEqualTypeOf<GpuTensor | Tensor>();
    expectTypeOf<Parameters<F>[0]>().toEqualTypeOf<{ readonly w: GpuTensor | Tensor; readonly b: GpuTensor | Tensor }>();
    expectTypeOf<ReturnType<F>[0]>().toEqualTypeOf<GpuTensor>();
    expectTypeOf(compile<[Tensor], Tensor>).parameter(0).toEqualTypeOf<GpuKernels>();
    // @ts-expect-error a number is not a tensor argument
    const bad: Parameters<F>[1] = 3;
    void bad;
  });
});

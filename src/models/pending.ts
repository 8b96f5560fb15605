/**
 * Driving step generators whose steps may be asynchronous: a generator yields `{ pending: promise }` where a step's
 * value comes from an asynchronous computation (a WebGPU value-and-gradient or statistic); the driver awaits it and
 * hands the value back (`it.next(v)`), or its error at the same point (`it.throw(e)`), so the generator's own
 * `try/catch` (rollbacks, guards) sees it exactly where a synchronous step would have thrown.
 */

/** What a step generator yields while it waits for an asynchronous value. */
export interface PendingStep<V = unknown> {
  readonly pending: Promise<V>;
}

/**
 * Resumes `it` from `r` past every {@link PendingStep} it yields and returns the first result that is not one (a
 * regular yielded point or the generator's return).
 * @example for (let r = await settlePending(it, it.next()); !r.done; r = await settlePending(it, it.next())) use(r.value);
 */
export async function settlePending<Y, R>(it: Generator<Y | PendingStep, R, unknown>, r: IteratorResult<Y | PendingStep, R>): Promise<IteratorResult<Y, R>> {
  while (!r.done && typeof r.value === 'object' && r.value !== null && 'pending' in r.value) {
    let v: unknown;
    try {
      v = await (r.value as PendingStep).pending;
    } catch (e) {
      r = it.throw(e);
      continue;
    }
    r = it.next(v);
  }
  return r as IteratorResult<Y, R>;
}

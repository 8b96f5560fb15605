/** Saving and restoring optimiser state as named tensors (for a safetensors checkpoint). */
import { ShapeError, Tensor, sameShape, toDType } from '../tensor/tensor.js';
import type { OptState } from './transform.js';
import { InvalidArgumentError, InvalidTypeError } from '../errors.js';

function join(prefix: string, k: string | number): string {
  return prefix === '' ? String(k) : `${prefix}.${k}`;
}

/**
 * Flattens an optimiser state into `name → Tensor`, ready for `saveSafetensors`. Names are the path of each leaf
 * joined by `.` under `prefix` (array entries by index, record entries by key): for
 * `chain(scaleByAdam(), scale(-lr))` over MLP parameters `{'l0.w', 'l0.b', …}` the entries are
 * `opt.0.count` (a float64 scalar), `opt.0.mu.l0.w`, `opt.0.nu.l0.w`, …; numbers become float64 scalars (exact for
 * step counts below 2⁵³), tensors are returned as they are (they share the state's buffers; `update` never overwrites
 * them). Empty records (stateless transforms) produce no entry.
 * @example await saveSafetensors(path, { ...params, ...optimStateToTensors(state) });
 */
export function optimStateToTensors(state: OptState, prefix = 'opt'): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  const put = (name: string, t: Tensor): void => {
    if (name in out) throw new InvalidArgumentError(`optimStateToTensors: two state entries map to the name '${name}' (a record key contains '.')`);
    out[name] = t;
  };
  const walk = (s: OptState, path: string): void => {
    if (s instanceof Tensor) put(path, s);
    else if (typeof s === 'number') put(path, new Tensor(new Float64Array([s]), []));
    else if (Array.isArray(s)) s.forEach((e, i) => walk(e, join(path, i)));
    else if (s !== null && typeof s === 'object') {
      const rec = s as Record<string, OptState>;
      for (const k of Object.keys(rec)) walk(rec[k], join(path, k));
    } else throw new InvalidTypeError(`optimStateToTensors: unsupported value of type ${typeof s} at '${path}'`);
  };
  walk(state, prefix);
  return out;
}

/**
 * Restores an optimiser state saved by {@link optimStateToTensors}. `template` gives the structure (use
 * `opt.init(params)` with the same optimiser and parameters); every leaf is looked up by its name, checked for shape
 * and copied into a fresh array of the template's dtype (the result never aliases the loaded buffers). A missing entry or a shape mismatch throws an error naming the entry.
 * @example const state = optimStateFromTensors(opt.init(params), (await loadSafetensors(path)).tensors);
 */
export function optimStateFromTensors<S extends OptState>(template: S, tensors: Readonly<Record<string, Tensor>>, prefix = 'opt'): S {
  const get = (path: string, what: string): Tensor => {
    const t = Object.prototype.hasOwnProperty.call(tensors, path) ? tensors[path] : undefined;
    if (!(t instanceof Tensor)) throw new ShapeError(`optimStateFromTensors: checkpoint has no tensor '${path}' (expected ${what})`);
    return t;
  };
  const walk = (s: OptState, path: string): OptState => {
    if (s instanceof Tensor) {
      const t = get(path, `shape [${s.shape.join(', ')}]`);
      if (!sameShape(t.shape, s.shape)) {
        throw new ShapeError(`optimStateFromTensors: '${path}' has shape [${t.shape.join(', ')}] but the optimiser expects [${s.shape.join(', ')}]`);
      }
      return toDType(t, s.dtype);
    }
    if (typeof s === 'number') {
      const t = get(path, 'a scalar');
      if (t.size !== 1) throw new ShapeError(`optimStateFromTensors: '${path}' should be a scalar but has shape [${t.shape.join(', ')}]`);
      return t.data[0];
    }
    if (Array.isArray(s)) return s.map((e, i) => walk(e, join(path, i)));
    const rec = s as Record<string, OptState>;
    const o: Record<string, OptState> = {};
    for (const k of Object.keys(rec)) o[k] = walk(rec[k], join(path, k));
    return o;
  };
  return walk(template, prefix) as S;
}

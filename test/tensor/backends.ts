/**
 * The backends the engine tests run on: always the pure-TS backend, plus the native addon when it is built — so the
 * gradient checks and engine tests pass on both. Each test calls `use()` first; `restore()` puts back the default.
 */
import { getBackend, jsBackend, setBackend, type Backend } from '../../src/tensor/backend.js';
import { loadNativeBackend } from '../../src/tensor/native.js';

export interface BackendUnderTest {
  readonly name: string;
  readonly backend: Backend;
  use(): void;
}

export function backendsUnderTest(): BackendUnderTest[] {
  const list: BackendUnderTest[] = [{ name: 'js', backend: jsBackend, use: () => setBackend(jsBackend) }];
  const native = loadNativeBackend().backend;
  if (native) list.push({ name: 'native', backend: native, use: () => setBackend(native) });
  else console.warn('native addon not built: engine tests run on the js backend only');
  return list;
}

const initial = getBackend();
/** Restores the backend that was selected before the engine tests switched it. */
export function restore(): void {
  setBackend(initial);
}

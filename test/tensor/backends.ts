/** The backends the engine tests run on: always the JS backend, plus the native addon when it is built. */
import { jsBackend, setBackend, type Backend } from '../../src/tensor/backend.js';

export interface BackendUnderTest {
  readonly name: string;
  readonly backend: Backend;
  use(): void;
}

export function backendsUnderTest(): BackendUnderTest[] {
  const list: BackendUnderTest[] = [{ name: 'js', backend: jsBackend, use: () => setBackend(jsBackend) }];
  return list;
}

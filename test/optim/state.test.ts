import { describe, expect, it } from 'vitest';
import { optimStateToTensors } from '../../src/optim/index.js';
import { InvalidArgumentError } from '../../src/errors.js';

describe('optimStateToTensors', () => {
  it('names each leaf by its path and refuses two leaves with one name (a record key with a dot)', () => {
    expect(Object.keys(optimStateToTensors({ count: 3, mu: { w: 1 } }))).toEqual(['opt.count', 'opt.mu.w']);
    const clash = { 'a.b': 1, a: { b: 2 } };
    expect(() => optimStateToTensors(clash)).toThrow(InvalidArgumentError);
    expect(() => optimStateToTensors(clash)).toThrow("two state entries map to the name 'opt.a.b'");
  });
});

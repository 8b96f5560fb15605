/**
 * A minimal stand-in for Node's global `Buffer`, covering exactly what `src/io/safetensors.ts` uses
 * (`Buffer.from(string, 'utf8')`, `Buffer.from(arrayBuffer, offset, length).toString('utf8')`, `Buffer.concat`,
 * `Buffer.alloc(n, fill)`), built on `Uint8Array`, `TextEncoder` and `TextDecoder`. Installed on `globalThis` by the
 * worker only when no `Buffer` exists.
 */
class MiniBuffer extends Uint8Array {
  /** Encodes a string as UTF-8, or views `length` bytes of an `ArrayBuffer` from `offset`. */
  static override from(src: unknown, a?: unknown, b?: unknown): MiniBuffer {
    if (typeof src === 'string') {
      if (a !== undefined && a !== 'utf8' && a !== 'utf-8') throw new Error(`Buffer shim: only utf8 strings are supported, got ${String(a)}`);
      const bytes = new TextEncoder().encode(src);
      return new MiniBuffer(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    if (src instanceof ArrayBuffer) return new MiniBuffer(src, (a as number | undefined) ?? 0, b as number | undefined);
    if (src instanceof Uint8Array) { const out = new MiniBuffer(src.length); out.set(src); return out; }
    throw new Error('Buffer shim: unsupported Buffer.from argument');
  }

  /** A new buffer of `n` bytes, filled with `fill`. */
  static alloc(n: number, fill = 0): MiniBuffer {
    return new MiniBuffer(n).fill(fill) as MiniBuffer;
  }

  /** The concatenation of `list`. */
  static concat(list: readonly Uint8Array[]): MiniBuffer {
    const out = new MiniBuffer(list.reduce((s, x) => s + x.length, 0));
    let p = 0;
    for (const x of list) { out.set(x, p); p += x.length; }
    return out;
  }

  /** Decodes the bytes as UTF-8 (the only encoding supported). */
  override toString(enc = 'utf8'): string {
    if (enc !== 'utf8' && enc !== 'utf-8') throw new Error(`Buffer shim: only utf8 is supported, got ${enc}`);
    return new TextDecoder('utf-8').decode(this);
  }
}

/** Installs the shim as `globalThis.Buffer` when the environment has none (browsers, workers). */
export function installBufferShim(): void {
  const g = globalThis as { Buffer?: unknown };
  if (typeof g.Buffer === 'undefined') g.Buffer = MiniBuffer;
}

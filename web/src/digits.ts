/**
 * Procedural 8×8 binary digit glyphs for the RBM tab (no digits file ships with the project): each of the ten digits
 * is a hand-drawn 5×7 bitmap, placed in the 8×8 frame at a random offset (x ∈ {0,1,2,3}, y ∈ {0,1}), optionally
 * thickened (each "on" pixel also lights its right neighbour, probability ½ per image), then every pixel flipped
 * with probability 0.02. All randomness comes from the given key.
 */
import { Tensor } from 'ebm-ts/tensor';
import { uniformArray, randintArray, split, type Key } from 'ebm-ts/random';
import { InvalidArgumentError } from '../../src/errors.js';

const GLYPHS: readonly string[][] = [
  ['.###.', '#...#', '#..##', '#.#.#', '##..#', '#...#', '.###.'],
  ['..#..', '.##..', '..#..', '..#..', '..#..', '..#..', '.###.'],
  ['.###.', '#...#', '....#', '...#.', '..#..', '.#...', '#####'],
  ['####.', '....#', '....#', '.###.', '....#', '....#', '####.'],
  ['...#.', '..##.', '.#.#.', '#..#.', '#####', '...#.', '...#.'],
  ['#####', '#....', '####.', '....#', '....#', '#...#', '.###.'],
  ['..##.', '.#...', '#....', '####.', '#...#', '#...#', '.###.'],
  ['#####', '....#', '...#.', '..#..', '.#...', '.#...', '.#...'],
  ['.###.', '#...#', '#...#', '.###.', '#...#', '#...#', '.###.'],
  ['.###.', '#...#', '#...#', '.####', '....#', '...#.', '.##..'],
];

/** Side of the images. */
export const DIGIT_SIDE = 8;

/**
 * `n` random digit-like 8×8 binary images, flattened row-major: a float32 tensor `[n, 64]` of 0/1 values, and the
 * digit label of each row.
 * @example const { x } = digitGlyphs(key(0), 1000); // x [1000, 64]
 */
export function digitGlyphs(k: Key, n: number): { x: Tensor; labels: Int32Array } {
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`digitGlyphs: n must be a positive integer, got ${n}`);
  const [kl, kx, ky, kt, kf] = split(k, 5);
  const labels = randintArray(kl, 0, 10, n);
  const ox = randintArray(kx, 0, 4, n);
  const oy = randintArray(ky, 0, 2, n);
  const thick = uniformArray(kt, n, 'float64');
  const flip = uniformArray(kf, n * 64, 'float64');
  const out = new Float32Array(n * 64);
  for (let s = 0; s < n; s++) {
    const g = GLYPHS[labels[s]];
    const base = s * 64;
    for (let r = 0; r < 7; r++) {
      for (let c = 0; c < 5; c++) {
        if (g[r][c] !== '#') continue;
        const rr = r + oy[s], cc = c + ox[s];
        out[base + rr * 8 + cc] = 1;
        if (thick[s] < 0.5 && cc + 1 < 8) out[base + rr * 8 + cc + 1] = 1;
      }
    }
    for (let i = 0; i < 64; i++) if (flip[base + i] < 0.02) out[base + i] = 1 - out[base + i];
  }
  return { x: new Tensor(out, [n, 64]), labels };
}

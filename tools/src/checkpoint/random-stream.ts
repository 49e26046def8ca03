/**
 * A seeded random stream per tensor: xoshiro128**, seeded through splitmix32 from (seed, tensor
 * name), so a tensor's values do not depend on which other tensors are written or in what order.
 * The fill loops keep the state in locals: a hot loop over class fields runs several times slower.
 */

const TWO_POW_MINUS_32 = 2 ** -32;

/** 32-bit FNV-1a of a string's UTF-16 units. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export class RandomStream {
  readonly #state = new Int32Array(4);

  constructor(seed: number, name: string) {
    let x = (fnv1a(name) ^ Math.imul(seed | 0, 0x9e3779b1) ^ Math.floor(seed / 2 ** 32)) >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) | 0;
      let z = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.#state[i] = z ^ (z >>> 16);
    }
    if (this.#state.every((word) => word === 0)) this.#state[3] = 1; // xoshiro's one forbidden state
  }

  /** Fills `out` with uniform draws in [low, high). */
  fillUniform(out: Float32Array, low: number, high: number): void {
    const state = this.#state;
    let [s0, s1, s2, s3] = state;
    const scale = (high - low) * TWO_POW_MINUS_32;
    for (let i = 0; i < out.length; i++) {
      const word = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3, 11);
      out[i] = low + scale * word;
    }
    state.set([s0, s1, s2, s3]);
  }

  /**
   * Fills `out` with normal(0, std) draws: Marsaglia's polar method, both values of each pair used
   * (an odd-length fill drops the last pair's second value).
   */
  fillNormal(out: Float32Array, std: number): void {
    const state = this.#state;
    let [s0, s1, s2, s3] = state;
    const n = out.length;
    let i = 0;
    let u = 0;
    let pending = false;
    while (i < n) {
      const word = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3, 11);
      const uniform = word * (2 * TWO_POW_MINUS_32) - 1; // [-1, 1)
      if (!pending) {
        u = uniform;
        pending = true;
        continue;
      }
      pending = false;
      const v = uniform;
      const r2 = u * u + v * v;
      if (r2 >= 1 || r2 === 0) continue; // outside the unit disc: draw a new pair
      const m = std * Math.sqrt((-2 * Math.log(r2)) / r2);
      out[i++] = u * m;
      if (i < n) out[i++] = v * m;
    }
    state.set([s0, s1, s2, s3]);
  }
}

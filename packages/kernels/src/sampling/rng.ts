/**
 * A small seeded pseudo-random generator for sampling: xoshiro128** (Blackman & Vigna), seeded
 * through splitmix32 so that nearby seeds give unrelated streams. Same seed, same sequence, on
 * every platform (32-bit integer arithmetic only).
 */

/** What the sampler draws from: uniform numbers in [0, 1). */
export interface RandomSource {
  nextFloat(): number;
}

export class SeededRandom implements RandomSource {
  private readonly state = new Uint32Array(4);

  /** `seed`: any finite number; its integer part (up to 2^53) selects the stream. */
  constructor(seed: number) {
    let low = seed >>> 0;
    let high = Math.floor(seed / 2 ** 32) >>> 0;
    const next = (): number => {
      // splitmix32 over the two halves of the seed
      low = (low + 0x9e3779b9) | 0;
      let z = low ^ Math.imul(high, 0x85ebca6b);
      high = (high + 0x632be5ab) | 0;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    for (let i = 0; i < 4; i++) this.state[i] = next();
    if (this.state.every((word) => word === 0)) this.state[0] = 1; // the all-zero state is a fixed point
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const s = this.state;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A uniform number in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

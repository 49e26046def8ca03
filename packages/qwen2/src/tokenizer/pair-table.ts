/**
 * A hash map from a pair of token ids to a number, in flat Int32Arrays with linear probing: BPE
 * looks up a merge rank for every adjacent pair, and a Map keyed by left * vocabSize + right would
 * hash doubles (the keys pass 2^31), several times slower.
 */
export class PairTable {
  private readonly lefts: Int32Array;
  private readonly rights: Int32Array;
  private readonly values: Int32Array;
  private readonly mask: number;

  /** @param capacity how many pairs will be stored; the table is kept at most half full. */
  constructor(capacity: number) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.lefts = new Int32Array(size).fill(-1);
    this.rights = new Int32Array(size);
    this.values = new Int32Array(size);
    this.mask = size - 1;
  }

  private slot(left: number, right: number): number {
    let hash = Math.imul(left, 0x9e3779b1) ^ Math.imul(right + 0x7f4a7c15, 0x85ebca6b);
    hash ^= hash >>> 15;
    let slot = hash & this.mask;
    while (this.lefts[slot] !== -1 && (this.lefts[slot] !== left || this.rights[slot] !== right))
      slot = (slot + 1) & this.mask;
    return slot;
  }

  /** Stores `value` for the pair unless the pair is already there; returns whether it stored. */
  setIfAbsent(left: number, right: number, value: number): boolean {
    const slot = this.slot(left, right);
    if (this.lefts[slot] !== -1) return false;
    this.lefts[slot] = left;
    this.rights[slot] = right;
    this.values[slot] = value;
    return true;
  }

  /** The pair's value, or -1. */
  get(left: number, right: number): number {
    const slot = this.slot(left, right);
    return this.lefts[slot] === -1 ? -1 : this.values[slot];
  }
}

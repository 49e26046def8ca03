/**
 * Byte-pair encoding of one pre-token. The word starts as one symbol per byte-level character;
 * the adjacent pair whose merge has the lowest rank is merged, again and again, until no adjacent
 * pair has a merge. Ties go to the leftmost pair, as in Hugging Face's BPE. Pairs wait in a binary
 * heap keyed by (rank, position), so a long word costs O(n log n), not a rescan per merge; a heap
 * entry made stale by an earlier merge is recognised when it surfaces and dropped. Results are
 * cached per word, since text repeats its words.
 */
import { TokenizerError } from './errors.js';
import { PairTable } from './pair-table.js';

/** Heap keys are rank * 2^32 + position; exact in a double while rank < 2^21. */
const POSITION_BITS = 2 ** 32;
const MAX_MERGES = 2 ** 21;
const CACHE_LIMIT = 100_000;
const CACHED_WORD_MAX_LENGTH = 256;

export class Bpe {
  /** (left id, right id) -> merge rank; the merged symbol's id is mergedId[rank]. */
  private readonly ranks: PairTable;
  private readonly mergedId: Int32Array;
  /** Byte-level character code -> its token id. */
  private readonly charIds = new Int32Array(0x144).fill(-1);
  private readonly cache = new Map<string, readonly number[]>();
  // Scratch for merge(), grown as needed: symbol ids (-1 once merged away) and list links.
  private ids = new Int32Array(64);
  private prev = new Int32Array(64);
  private next = new Int32Array(64);
  private readonly heap = new PairHeap();

  /**
   * @param vocab byte-level token -> id; every byte-level character, and every merge's halves and
   *   result must be in it (checkSpec makes sure).
   * @param merges [left, right] pairs, lowest rank first.
   * @param ignoreMerges when set, a word found whole in the vocabulary is one token without merging.
   */
  constructor(
    private readonly vocab: ReadonlyMap<string, number>,
    merges: readonly (readonly [string, string])[],
    private readonly ignoreMerges = false,
  ) {
    if (merges.length > MAX_MERGES)
      throw new TokenizerError(undefined, `${merges.length} merges is more than the ${MAX_MERGES} supported`);
    for (const [token, id] of vocab)
      if (token.length === 1 && token.charCodeAt(0) < 0x144) this.charIds[token.charCodeAt(0)] = id;
    this.ranks = new PairTable(merges.length);
    this.mergedId = new Int32Array(merges.length);
    merges.forEach(([left, right], rank) => {
      // A repeated pair keeps its first (lowest) rank.
      this.ranks.setIfAbsent(vocab.get(left) as number, vocab.get(right) as number, rank);
      this.mergedId[rank] = vocab.get(left + right) as number;
    });
  }

  /** The ids of `word`, a non-empty string of byte-level characters. */
  encode(word: string): readonly number[] {
    const cached = this.cache.get(word);
    if (cached !== undefined) return cached;
    const whole = this.ignoreMerges ? this.vocab.get(word) : undefined;
    const ids = whole !== undefined ? [whole] : this.merge(word);
    if (word.length <= CACHED_WORD_MAX_LENGTH) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(word, ids);
    }
    return ids;
  }

  private merge(word: string): number[] {
    const n = word.length;
    if (n === 0) return [];
    if (this.ids.length < n) {
      this.ids = new Int32Array(n * 2);
      this.prev = new Int32Array(n * 2);
      this.next = new Int32Array(n * 2);
    }
    // Symbols as a doubly linked list over the original positions.
    const { ids, prev, next, heap } = this;
    for (let i = 0; i < n; i++) {
      ids[i] = this.charIds[word.charCodeAt(i)];
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
    }
    heap.clear();
    for (let i = 0; i + 1 < n; i++) this.offer(i, i + 1);
    while (heap.size > 0) {
      const entry = heap.pop();
      const rank = Math.floor(entry / POSITION_BITS);
      const pos = entry - rank * POSITION_BITS;
      const right = next[pos];
      // Stale: the left symbol was merged away, or its right neighbour changed since the push.
      if (ids[pos] < 0 || right < 0 || this.ranks.get(ids[pos], ids[right]) !== rank) continue;
      ids[pos] = this.mergedId[rank];
      ids[right] = -1;
      next[pos] = next[right];
      if (next[pos] >= 0) prev[next[pos]] = pos;
      if (prev[pos] >= 0) this.offer(prev[pos], pos);
      if (next[pos] >= 0) this.offer(pos, next[pos]);
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]) out.push(ids[i]);
    return out;
  }

  private offer(left: number, right: number): void {
    const rank = this.ranks.get(this.ids[left], this.ids[right]);
    if (rank >= 0) this.heap.push(rank * POSITION_BITS + left);
  }
}

/** A binary min-heap of numbers (rank * 2^32 + position). */
class PairHeap {
  private items = new Float64Array(64);
  size = 0;

  clear(): void {
    this.size = 0;
  }

  push(value: number): void {
    if (this.size === this.items.length) {
      const grown = new Float64Array(this.items.length * 2);
      grown.set(this.items);
      this.items = grown;
    }
    const items = this.items;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent] <= value) break;
      items[i] = items[parent];
      i = parent;
    }
    items[i] = value;
  }

  pop(): number {
    const items = this.items;
    const top = items[0];
    const last = items[--this.size];
    let i = 0;
    while (true) {
      let child = 2 * i + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && items[child + 1] < items[child]) child++;
      if (items[child] >= last) break;
      items[i] = items[child];
      i = child;
    }
    items[i] = last;
    return top;
  }
}

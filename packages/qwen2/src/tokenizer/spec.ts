/**
 * What a tokenizer is, once read from whichever files a model folder has: a byte-level BPE
 * vocabulary and merges, added tokens, normalization forms and split regexes. `checkSpec` verifies
 * the parts agree with each other before a Tokenizer is built on them.
 */
import type { AddedToken } from './added-tokens.js';
import { BYTE_TO_CHAR } from './byte-level.js';
import { TokenizerError } from './errors.js';

export type NormalizationForm = 'NFC' | 'NFD' | 'NFKC' | 'NFKD';

export interface TokenizerSpec {
  /** Byte-level token -> id, without the added tokens. */
  readonly vocab: ReadonlyMap<string, number>;
  /** Merge pairs, lowest rank (applied first) first. */
  readonly merges: readonly (readonly [string, string])[];
  /** HF's `ignore_merges`: a word found whole in the vocabulary skips merging. */
  readonly ignoreMerges: boolean;
  readonly addedTokens: readonly AddedToken[];
  /** Unicode normalizations applied, in order, to text outside raw-matched added tokens. */
  readonly normalization: readonly NormalizationForm[];
  /** Split regexes (global, Unicode mode), applied in order; each keeps matches and gaps as pieces. */
  readonly splits: readonly RegExp[];
}

/** The files a spec came from, for error messages. */
export interface SpecSources {
  readonly vocab: string;
  readonly merges: string;
  readonly addedTokens: string;
}

/** Throws a TokenizerError naming the file at fault unless vocabulary, merges and added tokens agree. */
export function checkSpec(spec: TokenizerSpec, sources: SpecSources): void {
  const tokenOfId = new Map<number, string>();
  for (const [token, id] of spec.vocab) {
    // Dense ids keep every id table small and every id meaningful.
    if (id >= spec.vocab.size)
      throw new TokenizerError(
        sources.vocab,
        `token '${token}' has id ${id}, but ${spec.vocab.size} tokens must have ids 0..${spec.vocab.size - 1}`,
      );
    const other = tokenOfId.get(id);
    if (other !== undefined) throw new TokenizerError(sources.vocab, `tokens '${other}' and '${token}' share id ${id}`);
    tokenOfId.set(id, token);
  }
  BYTE_TO_CHAR.forEach((char, byte) => {
    if (!spec.vocab.has(char)) {
      throw new TokenizerError(
        sources.vocab,
        `the byte-level symbol '${char}' for byte 0x${byte.toString(16).padStart(2, '0')} is not in the vocabulary`,
      );
    }
  });
  spec.merges.forEach(([left, right], rank) => {
    const unknown = !spec.vocab.has(left)
      ? left
      : !spec.vocab.has(right)
        ? right
        : !spec.vocab.has(left + right)
          ? left + right
          : undefined;
    if (unknown !== undefined) {
      throw new TokenizerError(
        sources.merges,
        `merge ${rank} ('${left}' '${right}') names '${unknown}', which is not in the vocabulary`,
      );
    }
  });
  // Hugging Face ignores the ids a file gives added tokens and numbers them itself on loading: a
  // token already in the vocabulary takes its vocabulary id, the others take the ids after the
  // vocabulary, in file order. A file that says otherwise would tokenize differently here and there.
  const addedContents = new Map<string, number>();
  let maxAdded = -1;
  for (const token of spec.addedTokens) {
    const where = `added token '${token.content}' (id ${token.id})`;
    if (token.content.length === 0)
      throw new TokenizerError(sources.addedTokens, `added token ${token.id} has empty content`);
    const twin = addedContents.get(token.content);
    if (twin !== undefined)
      throw new TokenizerError(
        sources.addedTokens,
        `added token '${token.content}' appears twice, with ids ${twin} and ${token.id}`,
      );
    addedContents.set(token.content, token.id);
    const inVocab = tokenOfId.get(token.id);
    if (inVocab !== undefined && inVocab !== token.content) {
      throw new TokenizerError(sources.addedTokens, `${where}: the vocabulary gives id ${token.id} to '${inVocab}'`);
    }
    const count = spec.vocab.size;
    const expected =
      spec.vocab.get(token.content) ?? (maxAdded < 0 ? count : maxAdded >= count || count === 0 ? maxAdded + 1 : count);
    if (token.id !== expected) {
      throw new TokenizerError(
        sources.addedTokens,
        `${where}: expected id ${expected} (added tokens not in the vocabulary take the ids after it, in order)`,
      );
    }
    maxAdded = Math.max(maxAdded, expected);
  }
}

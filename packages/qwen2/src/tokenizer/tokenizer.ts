/**
 * Qwen2's tokenizer: byte-level BPE as Hugging Face `tokenizers` runs it. encode() cuts out added
 * tokens, normalizes (NFC) the text between them, splits it with the pre-tokenization regex, maps
 * each piece's UTF-8 bytes to byte-level characters and merges them by BPE rank. decode() maps ids
 * back to bytes and reads them as UTF-8.
 */
import type { FolderInput } from '@fastvlm/tensor';
import { AddedTokenMatcher, type AddedToken, type Segment } from './added-tokens.js';
import { Bpe } from './bpe.js';
import { toByteLevel, tokenBytes } from './byte-level.js';
import { TokenizerError } from './errors.js';
import { readTokenizerFolder, specFromFiles, type TokenizerFiles } from './load.js';
import { preTokenize } from './pretokenize.js';
import { checkSpec, type NormalizationForm, type TokenizerSpec } from './spec.js';
import { StreamDecoder } from './stream-decoder.js';

export interface EncodeOptions {
  /** Recognise special tokens written in the text (default true); when false they are tokenized as plain text. */
  readonly allowSpecial?: boolean;
}

export interface DecodeOptions {
  /** Leave special tokens out of the text (default false). */
  readonly skipSpecial?: boolean;
}

const NO_BYTES = new Uint8Array(0);

export class Tokenizer {
  /** One more than the largest id, added tokens included (151646 for Qwen2). */
  readonly vocabSize: number;
  readonly addedTokens: readonly AddedToken[];
  private readonly bpe: Bpe;
  private readonly vocab: ReadonlyMap<string, number>;
  private readonly addedIds: ReadonlyMap<string, number>;
  private readonly tokens: (string | undefined)[];
  private readonly special: Uint8Array;
  private readonly bytes: (Uint8Array | undefined)[];
  private readonly rawMatcher: AddedTokenMatcher;
  private readonly normalizedMatcher: AddedTokenMatcher;
  private readonly normalization: readonly NormalizationForm[];
  private readonly splits: readonly RegExp[];
  private readonly utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

  /** Builds on a spec that checkSpec has passed (the static constructors check it). */
  private constructor(spec: TokenizerSpec) {
    this.vocab = spec.vocab;
    this.addedTokens = spec.addedTokens;
    this.addedIds = new Map(spec.addedTokens.map((token) => [token.content, token.id]));
    this.bpe = new Bpe(spec.vocab, spec.merges, spec.ignoreMerges);
    this.normalization = spec.normalization;
    this.splits = spec.splits;
    let maxId = -1;
    for (const id of spec.vocab.values()) maxId = Math.max(maxId, id);
    for (const token of spec.addedTokens) maxId = Math.max(maxId, token.id);
    this.vocabSize = maxId + 1;
    this.tokens = new Array<string | undefined>(this.vocabSize);
    for (const [token, id] of spec.vocab) this.tokens[id] = token;
    this.special = new Uint8Array(this.vocabSize);
    for (const token of spec.addedTokens) {
      this.tokens[token.id] = token.content;
      if (token.special) this.special[token.id] = 1;
    }
    this.bytes = new Array<Uint8Array | undefined>(this.vocabSize);
    this.rawMatcher = new AddedTokenMatcher(spec.addedTokens.filter((token) => !token.normalized));
    this.normalizedMatcher = new AddedTokenMatcher(
      spec.addedTokens.filter((token) => token.normalized),
      (text) => this.normalize(text),
    );
  }

  /** Reads the tokenizer of a model folder (tokenizer.json, or vocab.json + merges.txt + tokenizer_config.json). */
  static async fromFolder(folder: FolderInput): Promise<Tokenizer> {
    return new Tokenizer(await readTokenizerFolder(folder));
  }

  /** Builds a tokenizer from file contents by name, for callers that fetched the files themselves. */
  static fromFiles(files: TokenizerFiles): Tokenizer {
    return new Tokenizer(specFromFiles(files));
  }

  /** Builds a tokenizer from a spec made in code; it is checked first. */
  static fromSpec(spec: TokenizerSpec): Tokenizer {
    checkSpec(spec, { vocab: 'spec.vocab', merges: 'spec.merges', addedTokens: 'spec.addedTokens' });
    return new Tokenizer(spec);
  }

  /** The ids of `text`. No BOS or EOS is added (Qwen2 has none). */
  encode(text: string, { allowSpecial = true }: EncodeOptions = {}): number[] {
    const ids: number[] = [];
    const raw: Segment[] = [];
    this.rawMatcher.split(text, allowSpecial, raw);
    for (const segment of raw) {
      if (segment.id >= 0) {
        ids.push(segment.id);
        continue;
      }
      const normalized: Segment[] = [];
      this.normalizedMatcher.split(this.normalize(segment.text), allowSpecial, normalized);
      for (const { text: part, id } of normalized) {
        if (id >= 0) {
          ids.push(id);
          continue;
        }
        for (const piece of preTokenize(part, this.splits)) {
          if (piece.length > 0) for (const pieceId of this.bpe.encode(toByteLevel(piece))) ids.push(pieceId);
        }
      }
    }
    return ids;
  }

  /** The text of `ids`. Throws a TokenizerError for an id that is not in the vocabulary. */
  decode(ids: readonly number[], { skipSpecial = false }: DecodeOptions = {}): string {
    const parts: Uint8Array[] = [];
    let length = 0;
    for (const id of ids) {
      const bytes = this.bytesOf(id, skipSpecial);
      parts.push(bytes);
      length += bytes.length;
    }
    const all = new Uint8Array(length);
    let offset = 0;
    for (const part of parts) {
      all.set(part, offset);
      offset += part.length;
    }
    return this.utf8.decode(all);
  }

  /** A decoder that turns ids into text one at a time, never splitting a character. */
  createStreamDecoder({ skipSpecial = false }: DecodeOptions = {}): StreamDecoder {
    return new StreamDecoder((id) => this.bytesOf(id, skipSpecial));
  }

  /** The token string of `id` (byte-level characters, e.g. 'Ġthe'; an added token's content), or undefined. */
  idToToken(id: number): string | undefined {
    return Number.isInteger(id) && id >= 0 && id < this.vocabSize ? this.tokens[id] : undefined;
  }

  /** The id of a token string (byte-level characters, or an added token's content), or undefined. */
  tokenToId(token: string): number | undefined {
    return this.addedIds.get(token) ?? this.vocab.get(token);
  }

  /** Whether `id` is a special added token (skipped by decode({ skipSpecial: true })). */
  isSpecial(id: number): boolean {
    return this.special[id] === 1;
  }

  /** The bytes `id` stands for; empty for a special token when `skipSpecial`. */
  bytesOf(id: number, skipSpecial = false): Uint8Array {
    const token = this.idToToken(id);
    if (token === undefined) {
      throw new TokenizerError(
        undefined,
        `id ${String(id)} is not in the vocabulary (ids run 0..${this.vocabSize - 1})`,
      );
    }
    if (skipSpecial && this.special[id] === 1) return NO_BYTES;
    let bytes = this.bytes[id];
    if (bytes === undefined) this.bytes[id] = bytes = tokenBytes(token);
    return bytes;
  }

  private normalize(text: string): string {
    for (const form of this.normalization) text = text.normalize(form);
    return text;
  }
}

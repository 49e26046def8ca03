/**
 * Reads the older layout of a Qwen2 tokenizer: vocab.json + merges.txt, with the added tokens in
 * tokenizer_config.json (`added_tokens_decoder`) and/or added_tokens.json. These files do not say
 * how text is normalized or split, so Qwen2's own pipeline is assumed, as transformers'
 * Qwen2Tokenizer assumes it: NFC, then Qwen2's split regex, then byte-level BPE.
 */
import type { AddedToken } from './added-tokens.js';
import { TokenizerError } from './errors.js';
import { asId, asObject, describeJson, parseJson } from './json-checks.js';
import { onigToRegExp } from './onig-regex.js';
import { parseAddedToken, parseVocab } from './parse-tokenizer-json.js';
import { QWEN2_SPLIT_PATTERN } from './pretokenize.js';
import type { TokenizerSpec } from './spec.js';

/** A file's name (or path, for messages) and its text. */
export interface NamedText {
  readonly name: string;
  readonly text: string;
}

export interface VocabFiles {
  readonly vocab: NamedText;
  readonly merges: NamedText;
  readonly config?: NamedText;
  readonly addedTokens?: NamedText;
}

/** merges.txt: an optional "#version" line, then one "left right" pair per line. */
export function parseMergesTxt({ name, text }: NamedText): [string, string][] {
  const merges: [string, string][] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || (index === 0 && line.startsWith('#version'))) return;
    const parts = line.split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new TokenizerError(
        name,
        `line ${index + 1}: expected two tokens separated by one space, got ${describeJson(line)}`,
      );
    }
    merges.push([parts[0], parts[1]]);
  });
  return merges;
}

/** The special-token names tokenizer_config.json gives (bos/eos/unk/pad, additional_special_tokens). */
function specialNames(config: Record<string, unknown>): Set<string> {
  const names = new Set<string>();
  const add = (value: unknown): void => {
    if (typeof value === 'string') names.add(value);
    else if (
      typeof value === 'object' &&
      value !== null &&
      typeof (value as { content?: unknown }).content === 'string'
    ) {
      names.add((value as { content: string }).content);
    }
  };
  for (const key of ['bos_token', 'eos_token', 'unk_token', 'pad_token']) add(config[key]);
  if (Array.isArray(config.additional_special_tokens)) config.additional_special_tokens.forEach(add);
  return names;
}

function parseAddedTokens(files: VocabFiles): AddedToken[] {
  const byId = new Map<number, AddedToken>();
  let config: Record<string, unknown> = {};
  if (files.config !== undefined) {
    const { name, text } = files.config;
    config = asObject(parseJson(text, name), name, 'the file');
    if (config.added_tokens_decoder !== undefined) {
      for (const [key, token] of Object.entries(asObject(config.added_tokens_decoder, name, 'added_tokens_decoder'))) {
        const what = `added_tokens_decoder['${key}']`;
        if (!/^(0|[1-9][0-9]*)$/.test(key)) throw new TokenizerError(name, `${what}: the key must be a token id`);
        const id = asId(Number(key), name, `${what} key`);
        byId.set(id, parseAddedToken(token, id, name, what));
      }
    }
  }
  if (files.addedTokens !== undefined) {
    const { name, text } = files.addedTokens;
    const special = specialNames(config);
    for (const [content, value] of Object.entries(asObject(parseJson(text, name), name, 'the file'))) {
      const id = asId(value, name, `'${content}'`);
      const known = byId.get(id);
      if (known !== undefined && known.content !== content) {
        throw new TokenizerError(
          name,
          `'${content}' has id ${id}, which ${files.config?.name} gives to '${known.content}'`,
        );
      }
      if (known === undefined) {
        const isSpecial = special.has(content);
        byId.set(id, {
          id,
          content,
          special: isSpecial,
          normalized: !isSpecial,
          lstrip: false,
          rstrip: false,
          singleWord: false,
        });
      }
    }
  }
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

export function parseVocabFiles(files: VocabFiles): TokenizerSpec {
  const { name, text } = files.vocab;
  const vocab = parseVocab(parseJson(text, name), name, 'the vocabulary');
  const merges = parseMergesTxt(files.merges);
  const splits = [onigToRegExp(QWEN2_SPLIT_PATTERN)];
  return { vocab, merges, ignoreMerges: false, addedTokens: parseAddedTokens(files), normalization: ['NFC'], splits };
}

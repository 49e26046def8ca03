/**
 * Reads a Hugging Face tokenizer.json holding a byte-level BPE: model (vocab, merges as "a b"
 * strings or [a, b] pairs), added_tokens, normalizer, pre_tokenizer (Split regexes then ByteLevel),
 * decoder ByteLevel. Anything this tokenizer would get wrong (a different model or decoder, a
 * normalizer or pre-tokenizer step it does not know) is refused with a TokenizerError, not ignored.
 */
import type { AddedToken } from './added-tokens.js';
import { TokenizerError } from './errors.js';
import { asArray, asBoolean, asId, asObject, asString, describeJson, parseJson } from './json-checks.js';
import { onigToRegExp, PatternError } from './onig-regex.js';
import { escapeRegExp } from './pretokenize.js';
import type { NormalizationForm, TokenizerSpec } from './spec.js';

const FORMS: readonly string[] = ['NFC', 'NFD', 'NFKC', 'NFKD'];
/** GPT-2's pattern, which a ByteLevel pre-tokenizer with use_regex applies. */
const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/** The `type` of a component object, or throws. */
function typeOf(value: unknown, file: string, what: string): { type: string; fields: Record<string, unknown> } {
  const fields = asObject(value, file, what);
  return { type: asString(fields.type, file, `${what}.type`), fields };
}

function unsupported(file: string, what: string, detail: string): TokenizerError {
  return new TokenizerError(file, `${what}: ${detail} is not supported (this tokenizer does byte-level BPE only)`);
}

export function parseVocab(value: unknown, file: string, what: string): Map<string, number> {
  const entries = asObject(value, file, what);
  const vocab = new Map<string, number>();
  for (const token in entries) {
    const id = entries[token];
    // The common case checked inline: asId would build a message string per entry.
    if (typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < 2 ** 31) vocab.set(token, id);
    else asId(id, file, `${what} entry '${token}'`);
  }
  return vocab;
}

function parseMerges(value: unknown, file: string): [string, string][] {
  return asArray(value, file, 'model.merges').map((merge, rank): [string, string] => {
    if (typeof merge === 'string') {
      const parts = merge.split(' ');
      if (parts.length === 2 && parts[0] !== '' && parts[1] !== '') return [parts[0], parts[1]];
    } else if (
      Array.isArray(merge) &&
      merge.length === 2 &&
      typeof merge[0] === 'string' &&
      typeof merge[1] === 'string'
    ) {
      return [merge[0], merge[1]];
    }
    throw new TokenizerError(
      file,
      `model.merges[${rank}] must be "left right" or [left, right], got ${describeJson(merge)}`,
    );
  });
}

function parseModel(value: unknown, file: string): Pick<TokenizerSpec, 'vocab' | 'merges' | 'ignoreMerges'> {
  const model = asObject(value, file, 'model');
  if (model.type !== undefined && model.type !== 'BPE')
    throw unsupported(file, 'model.type', `'${String(model.type)}'`);
  if (model.dropout !== undefined && model.dropout !== null && model.dropout !== 0)
    throw unsupported(file, 'model.dropout', 'BPE dropout');
  for (const affix of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
    if (model[affix] !== undefined && model[affix] !== null && model[affix] !== '')
      throw unsupported(file, `model.${affix}`, describeJson(model[affix]));
  }
  if (asBoolean(model.byte_fallback, file, 'model.byte_fallback', false))
    throw unsupported(file, 'model.byte_fallback', 'byte fallback');
  return {
    vocab: parseVocab(model.vocab, file, 'model.vocab'),
    merges: parseMerges(model.merges, file),
    ignoreMerges: asBoolean(model.ignore_merges, file, 'model.ignore_merges', false),
  };
}

/** One added token as tokenizer.json and tokenizer_config.json write it. */
export function parseAddedToken(value: unknown, id: number, file: string, what: string): AddedToken {
  const fields = asObject(value, file, what);
  const special = asBoolean(fields.special, file, `${what}.special`, false);
  return {
    id,
    content: asString(fields.content, file, `${what}.content`),
    special,
    normalized: asBoolean(fields.normalized, file, `${what}.normalized`, !special),
    lstrip: asBoolean(fields.lstrip, file, `${what}.lstrip`, false),
    rstrip: asBoolean(fields.rstrip, file, `${what}.rstrip`, false),
    singleWord: asBoolean(fields.single_word, file, `${what}.single_word`, false),
  };
}

function parseNormalizer(value: unknown, file: string, what: string): NormalizationForm[] {
  if (value === null || value === undefined) return [];
  const { type, fields } = typeOf(value, file, what);
  if (FORMS.includes(type)) return [type as NormalizationForm];
  if (type === 'Sequence') {
    return asArray(fields.normalizers, file, `${what}.normalizers`).flatMap((step, i) =>
      parseNormalizer(step, file, `${what}.normalizers[${i}]`),
    );
  }
  throw unsupported(file, what, `normalizer '${type}'`);
}

function compile(pattern: string, file: string, what: string): RegExp {
  try {
    return onigToRegExp(pattern);
  } catch (error) {
    if (error instanceof PatternError) throw new TokenizerError(file, `${what}: ${error.message}`, { cause: error });
    throw error;
  }
}

/** The split regexes of a pre_tokenizer: Split steps (Isolated), then one ByteLevel step last. */
function parsePreTokenizer(value: unknown, file: string): RegExp[] {
  const top = typeOf(value, file, 'pre_tokenizer');
  const steps =
    top.type === 'Sequence' ? asArray(top.fields.pretokenizers, file, 'pre_tokenizer.pretokenizers') : [value];
  const what = (i: number): string => (top.type === 'Sequence' ? `pre_tokenizer.pretokenizers[${i}]` : 'pre_tokenizer');
  const splits: RegExp[] = [];
  steps.forEach((step, i) => {
    const { type, fields } = typeOf(step, file, what(i));
    const isLast = i === steps.length - 1;
    if (type === 'ByteLevel' && isLast) {
      if (asBoolean(fields.add_prefix_space, file, `${what(i)}.add_prefix_space`, false))
        throw unsupported(file, what(i), 'add_prefix_space');
      if (asBoolean(fields.use_regex, file, `${what(i)}.use_regex`, true))
        splits.push(compile(GPT2_PATTERN, file, what(i)));
    } else if (type === 'Split' && !isLast) {
      if (fields.behavior !== 'Isolated') throw unsupported(file, `${what(i)}.behavior`, describeJson(fields.behavior));
      if (asBoolean(fields.invert, file, `${what(i)}.invert`, false))
        throw unsupported(file, `${what(i)}.invert`, 'an inverted split');
      const pattern = asObject(fields.pattern, file, `${what(i)}.pattern`);
      if (typeof pattern.Regex === 'string') splits.push(compile(pattern.Regex, file, `${what(i)}.pattern.Regex`));
      else splits.push(new RegExp(escapeRegExp(asString(pattern.String, file, `${what(i)}.pattern.String`)), 'gu'));
    } else {
      throw unsupported(file, what(i), `a '${type}' step here (expected Split steps, then ByteLevel last)`);
    }
  });
  return splits;
}

export function parseTokenizerJson(text: string, file: string): TokenizerSpec {
  const root = asObject(parseJson(text, file), file, 'the file');
  if (root.model === undefined) throw new TokenizerError(file, "has no 'model'");
  const decoder = typeOf(root.decoder, file, 'decoder');
  if (decoder.type !== 'ByteLevel') throw unsupported(file, 'decoder', `'${decoder.type}'`);
  if (root.post_processor !== null && root.post_processor !== undefined) {
    const post = typeOf(root.post_processor, file, 'post_processor');
    if (post.type !== 'ByteLevel') throw unsupported(file, 'post_processor', `'${post.type}'`);
  }
  const addedTokens = asArray(root.added_tokens ?? [], file, 'added_tokens').map((token, i) => {
    const what = `added_tokens[${i}]`;
    return parseAddedToken(token, asId(asObject(token, file, what).id, file, `${what}.id`), file, what);
  });
  return {
    ...parseModel(root.model, file),
    addedTokens,
    normalization: parseNormalizer(root.normalizer, file, 'normalizer'),
    splits: parsePreTokenizer(root.pre_tokenizer, file),
  };
}

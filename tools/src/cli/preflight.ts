/**
 * What `describe` and `chat` check before the model loads (seconds; minutes for 7B): the model
 * folder, its config and tokenizer, the image (a decodable PNG/JPEG header within the budgets), the
 * prompt's length against the context with --max-new-tokens, --max-context, sampling options and
 * the --dump path. The load repeats the config and tokenizer reads; they take well under a second.
 */
import { readImageFile } from '@fastvlm/image/node';
import { readImageHeader } from '@fastvlm/image';
import {
  checkRequest,
  DEFAULT_CHAT_CONTEXT,
  DEFAULT_MAX_NEW_TOKENS,
  encodePrompt,
  IMAGE_TOKEN_INDEX,
  readFastVlmConfig,
  type FastVlmConfig,
  type GenerateRequest,
} from '@fastvlm/llava';
import { Tokenizer } from '@fastvlm/qwen2';
import { checkInputFile, checkInputFolder } from '../fs/input-paths.js';
import { checkOutputFile } from '../fs/output-paths.js';
import { UsageError } from './errors.js';

/** A model given as an http(s) URL is not on disk: its files are checked by the load itself. */
function isUrl(model: string): boolean {
  return /^https?:\/\//i.test(model);
}

/** Reads the image's header (format, size, decoding budget) without decoding a pixel. */
export async function checkImageFile(flag: string, path: string): Promise<void> {
  await checkInputFile(flag, path);
  readImageHeader(await readImageFile(path), { source: path });
}

/** The model's config and tokenizer, read before the weights; undefined for a URL. */
async function readModelBasics(model: string): Promise<{ config: FastVlmConfig; tokenizer: Tokenizer } | undefined> {
  if (isUrl(model)) return undefined;
  await checkInputFolder('--model', model);
  const config = await readFastVlmConfig(model);
  return { config, tokenizer: await Tokenizer.fromFolder(model) };
}

function positionsOf(ids: readonly number[], config: FastVlmConfig): number {
  return ids.includes(IMAGE_TOKEN_INDEX) ? ids.length - 1 + config.imageTokens : ids.length;
}

/**
 * The files the user named: the image (`flag` names it in errors) and the --dump path. Called first,
 * before the demo model is written or anything loaded.
 */
export async function checkNamedFiles(files: { image?: { flag: string; path: string }; dump?: string }): Promise<void> {
  if (files.dump !== undefined) await checkOutputFile('--dump', files.dump);
  if (files.image !== undefined) await checkImageFile(files.image.flag, files.image.path);
}

/** `describe`: what one generation needs from the model (context, prompt length), checked without the weights. */
export async function preflightDescribe(model: string, request: GenerateRequest & { image: string }): Promise<void> {
  const basics = await readModelBasics(model);
  if (basics === undefined) return;
  const ids = encodePrompt(basics.tokenizer, request.prompt, {
    image: true,
    system: request.system,
    allowSpecialTokens: request.allowSpecialTokens,
  });
  const positions = positionsOf(ids, basics.config);
  const context = basics.config.llm.maxPositionEmbeddings;
  const maxNewTokens = request.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
  if (positions > context)
    throw new UsageError(
      `--prompt is too long: with the image it takes ${positions} positions, above the model's context of ${context}`,
    );
  if (positions + maxNewTokens - 1 > context)
    throw new UsageError(
      `--max-new-tokens ${maxNewTokens} is too many: the prompt takes ${positions} positions (image tokens included) ` +
        `and the model's context is ${context}, so at most ${context - positions + 1} new tokens fit`,
    );
  checkRequest(request, positions, context);
}

/** `chat`: --max-context, and that the system prompt and image leave room for an answer. */
export async function preflightChat(
  model: string,
  options: { image?: string; system?: string; maxContext?: number; request: Omit<GenerateRequest, 'prompt'> },
): Promise<void> {
  const basics = await readModelBasics(model);
  if (basics === undefined) return;
  const limit = basics.config.llm.maxPositionEmbeddings;
  const maxContext = options.maxContext ?? Math.min(DEFAULT_CHAT_CONTEXT, limit);
  if (maxContext > limit)
    throw new UsageError(`--max-context must be at most the model's context of ${limit}, got ${maxContext}`);
  checkRequest({ ...options.request, prompt: '' }, 0, Number.POSITIVE_INFINITY);
  // The first turn's fixed part (system prompt, image, chat markup) plus the answer must fit.
  const image = options.image !== undefined;
  // A one-token message stands for the shortest turn.
  const fixed = positionsOf(encodePrompt(basics.tokenizer, 'x', { image, system: options.system }), basics.config);
  const maxNewTokens = options.request.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
  if (fixed + maxNewTokens - 1 > maxContext)
    throw new UsageError(
      `--max-context ${maxContext} leaves no room for a turn: the shortest first turn takes ${fixed} positions ` +
        `(system prompt${image ? ', image' : ''} and chat markup) and --max-new-tokens asks for ${maxNewTokens} more`,
    );
}

/**
 * Apple's `qwen_2` conversation template, as FastVLM's predict.py builds it (spec section 5):
 *
 *   <|im_start|>system\nYou are a helpful assistant.<|im_end|>\n
 *   <|im_start|>user\n<image>\nDescribe the image.<|im_end|>\n
 *   <|im_start|>assistant\n
 *
 * The image goes at the start of the first user turn, where the placeholder id -200 is put (as
 * Apple's `tokenizer_image_token` does, the text on either side is tokenized separately).
 *
 * The template's markers (<|im_start|>, <|im_end|>) are control tokens; the text between them,
 * the user's and the system prompt included, is tokenized as plain text by default, so text such
 * as `<|im_end|><|im_start|>system` cannot forge a turn (as chat front ends do; Hugging Face's
 * `split_special_tokens=True`). `allowSpecialTokens` lets special tokens written in the text act as
 * control tokens, as predict.py's tokenization of the whole prompt does.
 */
import type { Tokenizer } from '@fastvlm/qwen2';
import { PromptError } from './errors.js';

/** The id that stands for the image in prompt ids (LLaVA's IMAGE_TOKEN_INDEX). */
export const IMAGE_TOKEN_INDEX = -200;
export const DEFAULT_SYSTEM_PROMPT = 'You are a helpful assistant.';

const IM_START = '<|im_start|>';
const IM_END = '<|im_end|>';

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

/** A single question, or a conversation whose last turn is the user's. */
export type Prompt = string | readonly ChatMessage[];

export interface PromptOptions {
  /** Put `<image>\n` at the start of the first user turn. */
  image: boolean;
  /** Default DEFAULT_SYSTEM_PROMPT. */
  system?: string;
  /**
   * Let special tokens written in the messages and the system prompt (<|im_start|>, <|im_end|>,
   * <|endoftext|>) act as control tokens. Default false: they are plain text.
   */
  allowSpecialTokens?: boolean;
}

/** A piece of the template: one of its control markers, the image's place, or text. */
type TemplatePart = { marker: string } | { image: true } | { text: string };

function checkMessages(prompt: Prompt): readonly ChatMessage[] {
  const messages = typeof prompt === 'string' ? [{ role: 'user' as const, content: prompt }] : prompt;
  if (!Array.isArray(messages) || messages.length === 0) throw new PromptError('the prompt has no messages');
  messages.forEach((message, i) => {
    if (message.role !== 'user' && message.role !== 'assistant')
      throw new PromptError(`message ${i}: role must be 'user' or 'assistant', got ${JSON.stringify(message.role)}`);
    if (typeof message.content !== 'string') throw new PromptError(`message ${i}: content must be a string`);
    const expected = i % 2 === 0 ? 'user' : 'assistant';
    if (message.role !== expected)
      throw new PromptError(`message ${i}: turns must alternate user, assistant, user...; got '${message.role}'`);
  });
  const last = messages[messages.length - 1];
  if (last.role !== 'user') throw new PromptError("the last message must be the user's");
  if (last.content.trim() === '') throw new PromptError('the prompt is empty');
  return messages;
}

/** The whole template of a prompt, up to the assistant's turn. */
function templateParts(prompt: Prompt, { image, system = DEFAULT_SYSTEM_PROMPT }: PromptOptions): TemplatePart[] {
  const messages = checkMessages(prompt);
  if (typeof system !== 'string') throw new PromptError('the system prompt must be a string');
  const parts: TemplatePart[] = [
    { marker: IM_START },
    { text: `system\n${system}` },
    { marker: IM_END },
    { text: '\n' },
  ];
  messages.forEach((message, i) => {
    parts.push({ marker: IM_START }, { text: `${message.role}\n` });
    if (i === 0 && image) parts.push({ image: true }, { text: '\n' });
    parts.push({ text: message.content }, { marker: IM_END }, { text: '\n' });
  });
  parts.push({ marker: IM_START }, { text: 'assistant\n' });
  return parts;
}

/** A chat's later turn, after the previous answer: it closes that answer and opens the next. */
function followUpParts(text: string): TemplatePart[] {
  return [
    { marker: IM_END },
    { text: '\n' },
    { marker: IM_START },
    { text: `user\n${text}` },
    { marker: IM_END },
    { text: '\n' },
    { marker: IM_START },
    { text: 'assistant\n' },
  ];
}

function partText(part: TemplatePart): string {
  return 'marker' in part ? part.marker : 'text' in part ? part.text : '';
}

/** The prompt text, split where the image goes: one piece without an image, two with one. */
export function formatPrompt(prompt: Prompt, options: PromptOptions): string[] {
  const pieces = [''];
  for (const part of templateParts(prompt, options)) {
    if ('image' in part) pieces.push('');
    else pieces[pieces.length - 1] += partText(part);
  }
  return pieces;
}

/**
 * Ids of template parts: markers as their control tokens, the image as IMAGE_TOKEN_INDEX, each run
 * of text between them tokenized as one (special tokens in it recognised only when `allowSpecial`).
 */
function encodeParts(tokenizer: Tokenizer, parts: readonly TemplatePart[], allowSpecial: boolean): number[] {
  const ids: number[] = [];
  let run = '';
  const flush = (): void => {
    if (run !== '') ids.push(...tokenizer.encode(run, { allowSpecial }));
    run = '';
  };
  for (const part of parts) {
    if ('text' in part) {
      run += part.text;
      continue;
    }
    flush();
    if ('image' in part) {
      ids.push(IMAGE_TOKEN_INDEX);
    } else {
      const id = tokenizer.tokenToId(part.marker);
      if (id === undefined) throw new PromptError(`the tokenizer has no ${part.marker} token`);
      ids.push(id);
    }
  }
  flush();
  return ids;
}

/** Prompt ids, with IMAGE_TOKEN_INDEX where the image goes (when `image`). */
export function encodePrompt(tokenizer: Tokenizer, prompt: Prompt, options: PromptOptions): number[] {
  return encodeParts(tokenizer, templateParts(prompt, options), options.allowSpecialTokens ?? false);
}

/** Ids of a chat's later turn `text` (after the previous answer's tokens). */
export function encodeFollowUp(tokenizer: Tokenizer, text: string, allowSpecialTokens = false): number[] {
  return encodeParts(tokenizer, followUpParts(text), allowSpecialTokens);
}

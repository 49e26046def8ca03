/**
 * Apple's `qwen_2` conversation template, as FastVLM's predict.py builds it (spec section 5):
 *
 *   <|im_start|>system\nYou are a helpful assistant.<|im_end|>\n
 *   <|im_start|>user\n<image>\nDescribe the image.<|im_end|>\n
 *   <|im_start|>assistant\n
 *
 * The image goes at the start of the first user turn. As Apple's `tokenizer_image_token` does, the
 * text before and after `<image>` is tokenized separately and the placeholder id -200 put between.
 * Like Apple's, the text is tokenized with special tokens recognised.
 */
import type { Tokenizer } from '@fastvlm/qwen2';
import { PromptError } from './errors.js';

/** The id that stands for the image in prompt ids (LLaVA's IMAGE_TOKEN_INDEX). */
export const IMAGE_TOKEN_INDEX = -200;
export const DEFAULT_SYSTEM_PROMPT = 'You are a helpful assistant.';

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
}

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

/** The prompt text, split where the image goes: one piece without an image, two with one. */
export function formatPrompt(prompt: Prompt, { image, system = DEFAULT_SYSTEM_PROMPT }: PromptOptions): string[] {
  const messages = checkMessages(prompt);
  const pieces: string[] = [];
  let text = `<|im_start|>system\n${system}<|im_end|>\n`;
  messages.forEach((message, i) => {
    text += `<|im_start|>${message.role}\n`;
    if (i === 0 && image) {
      pieces.push(text);
      text = '\n';
    }
    text += `${message.content}<|im_end|>\n`;
  });
  pieces.push(`${text}<|im_start|>assistant\n`);
  return pieces;
}

/** Prompt ids, with IMAGE_TOKEN_INDEX where the image goes (when `image`). */
export function encodePrompt(tokenizer: Tokenizer, prompt: Prompt, options: PromptOptions): number[] {
  const pieces = formatPrompt(prompt, options).map((piece) => tokenizer.encode(piece));
  return pieces.length === 1 ? pieces[0] : [...pieces[0], IMAGE_TOKEN_INDEX, ...pieces[1]];
}

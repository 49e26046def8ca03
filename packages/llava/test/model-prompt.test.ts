import { Tokenizer } from '@fastvlm/qwen2';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodePrompt, formatPrompt, IMAGE_TOKEN_INDEX, PromptError } from '../src/model/index.js';
import { MODEL_FOLDER, checkFixtures } from './e2e-fixtures.js';

describe("Apple's qwen_2 prompt template", () => {
  let tokenizer: Tokenizer;
  beforeAll(async () => {
    checkFixtures();
    tokenizer = await Tokenizer.fromFolder(MODEL_FOLDER);
  });

  it('puts <image>\\n at the start of the first user turn and splits the text there', () => {
    expect(formatPrompt('Describe the image.', { image: true })).toEqual([
      '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n',
      '\nDescribe the image.<|im_end|>\n<|im_start|>assistant\n',
    ]);
  });

  it('a text-only prompt is one piece, with no placeholder', () => {
    const ids = encodePrompt(tokenizer, 'Hi', { image: false });
    expect(ids).not.toContain(IMAGE_TOKEN_INDEX);
    expect(tokenizer.decode(ids)).toBe(
      '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it('multi-turn: turns in order, the image in the first user turn only, a custom system prompt', () => {
    const messages = [
      { role: 'user' as const, content: 'What is this?' },
      { role: 'assistant' as const, content: 'A test card.' },
      { role: 'user' as const, content: 'Which colours?' },
    ];
    const pieces = formatPrompt(messages, { image: true, system: 'Be brief.' });
    expect(pieces.join('<image>')).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n<image>\nWhat is this?<|im_end|>\n' +
        '<|im_start|>assistant\nA test card.<|im_end|>\n<|im_start|>user\nWhich colours?<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(encodePrompt(tokenizer, messages, { image: true }).filter((id) => id === IMAGE_TOKEN_INDEX)).toHaveLength(1);
  });

  it('refuses empty prompts and malformed conversations', () => {
    expect(() => formatPrompt('', { image: false })).toThrow(PromptError);
    expect(() => formatPrompt([{ role: 'assistant', content: 'x' }], { image: false })).toThrow(PromptError);
    expect(() =>
      formatPrompt(
        [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: 'b' },
        ],
        { image: false },
      ),
    ).toThrow(PromptError);
    expect(() =>
      formatPrompt(
        [
          { role: 'user', content: 'a' },
          { role: 'user', content: 'b' },
        ],
        { image: false },
      ),
    ).toThrow(PromptError);
  });
});

import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runChat } from '../src/cli/commands/chat.js';
import { UsageError } from '../src/cli/errors.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MODEL = join(ROOT, '.cache/fixtures/llava/tiny');
const IMAGE = join(ROOT, '.cache/fixtures/llava/image.png');

function capture(): { out: string[]; err: string[]; output: { out(t: string): void; err(t: string): void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, output: { out: (t) => void out.push(t), err: (t) => void err.push(t) } };
}

describe('fastvlm chat', () => {
  it('answers two lines, streamed, and ends at the end of input', async () => {
    const { out, err, output } = capture();
    const input = Readable.from(['Describe the image.\n', 'And the colours?\n']);
    const summary = await runChat({ model: MODEL, image: IMAGE, maxNewTokens: '4', dtype: 'f32' }, input, output);
    expect(summary.turns).toBe(2);
    expect(out.join('')).toBe(`${summary.answers[0]}\n${summary.answers[1]}\n`);
    expect(out.length).toBeGreaterThan(2); // streamed piece by piece, not one write per answer
    expect(err.join('')).toMatch(/positions/);
  });

  it('/reset starts over (the same first answer), /exit ends before the rest', async () => {
    const { output } = capture();
    const input = Readable.from(['Hello.\n', '/reset\n', 'Hello.\n', '/exit\n', 'never answered\n']);
    const summary = await runChat({ model: MODEL, maxNewTokens: '3', dtype: 'f32' }, input, output);
    expect(summary.turns).toBe(2);
    expect(summary.answers[1]).toBe(summary.answers[0]);
  });

  it('bad flags are UsageErrors', async () => {
    const { output } = capture();
    await expect(runChat({ model: MODEL, dtype: 'f64' }, Readable.from([]), output)).rejects.toThrow(UsageError);
    await expect(runChat({ model: MODEL, maxNewTokens: '0' }, Readable.from([]), output)).rejects.toThrow(UsageError);
  });
});

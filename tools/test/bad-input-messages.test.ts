/**
 * #15 class 8: what a refused command prints is one line that says what and where, once: never the
 * path twice (Node's "ENOENT: no such file or directory, open '<path>'" after our own naming of it),
 * never "undefined", never a stack or an "unexpected" bug report. And `init-random` interrupted
 * (Ctrl-C) leaves no partial file and replaces nothing that was there.
 */
import { EventEmitter } from 'node:events';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInitRandom } from '../src/cli/commands/init-random.js';
import { InterruptedError, reportError } from '../src/cli/errors.js';
import { fastvlm, makeFifo, writeSmallPng, writeWeightlessModel } from './bad-input-helpers.js';

let root: string;
let model: string;
let png: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fastvlm-bad-messages-'));
  model = await writeWeightlessModel(join(root, 'model'));
  png = await writeSmallPng(join(root, 'small.png'));
  makeFifo(join(root, 'fifo'));
  await mkdir(join(root, 'broken-config'));
  writeFileSync(join(root, 'broken-config', 'config.json'), '{ "model_type": "llava_qwen2", ');
  await mkdir(join(root, 'no-tokenizer'));
  writeFileSync(join(root, 'no-tokenizer', 'config.json'), readFileSync(join(model, 'config.json')));
}, 60_000);
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Each command, and the path its message must name exactly once. */
const COMMANDS: [string, () => string[], () => string][] = [
  [
    'tokenize --file missing',
    () => ['tokenize', '--model', model, '--file', join(root, 'gone.txt')],
    () => join(root, 'gone.txt'),
  ],
  [
    'describe missing image',
    () => ['describe', join(root, 'gone.png'), '--model', model],
    () => join(root, 'gone.png'),
  ],
  ['describe image a FIFO', () => ['describe', join(root, 'fifo'), '--model', model], () => join(root, 'fifo')],
  ['describe --model missing', () => ['describe', png, '--model', join(root, 'gone')], () => join(root, 'gone')],
  ['describe --model without weights', () => ['describe', png, '--model', model], () => model],
  [
    'describe --model without tokenizer',
    () => ['describe', png, '--model', join(root, 'no-tokenizer')],
    () => join(root, 'no-tokenizer'),
  ],
  [
    'describe --model broken config',
    () => ['describe', png, '--model', join(root, 'broken-config')],
    () => join(root, 'broken-config'),
  ],
  ['inspect missing folder', () => ['inspect', join(root, 'gone')], () => join(root, 'gone')],
  ['inspect broken config', () => ['inspect', join(root, 'broken-config')], () => join(root, 'broken-config')],
  [
    'describe --dump missing folder',
    () => ['describe', png, '--model', model, '--dump', join(root, 'a', 'b.st')],
    () => join(root, 'a', 'b.st'),
  ],
  ['init-random under a file', () => ['init-random', join(png, 'x'), '--quiet'], () => join(png, 'x')],
  ['pull --out a file', () => ['pull', 'acme/x', '--out', png, '--quiet'], () => png],
];

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

describe('bad input: messages', { timeout: 30_000 }, () => {
  it.each(COMMANDS)('%s: one line, the path once, no undefined, no Node wording', async (_name, args, path) => {
    const run = await fastvlm(...args());
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/^error: [^\n]+\n$/);
    expect(occurrences(run.stderr, path())).toBe(1);
    expect(run.stderr).not.toMatch(/undefined|unexpected|\bat \S+:\d+|no such file or directory,/);
  });

  it('says what was interrupted, with the exit code of the signal', () => {
    let text = '';
    const code = reportError(new InterruptedError('SIGINT', 'interrupted (SIGINT): x'), (t) => (text += t), {});
    expect(code).toBe(130);
    expect(text).toBe('error: interrupted (SIGINT): x\n');
    expect(reportError(new InterruptedError('SIGTERM', 'y'), () => undefined, {})).toBe(143);
  });
});

describe('bad input: interrupted writes', { timeout: 120_000 }, () => {
  it('init-random stopped by Ctrl-C leaves no partial file and keeps what was there', async () => {
    const dir = join(root, 'interrupted');
    await mkdir(dir);
    writeFileSync(join(dir, 'config.json'), 'the old config\n');
    const signals = new EventEmitter();
    // Ctrl-C once model.safetensors is being written in the staging folder.
    const poll = setInterval(() => {
      const staging = readdirSync(dir).find((name) => name.startsWith('.partial-'));
      if (staging !== undefined && existsSync(join(dir, staging, 'model.safetensors.partial'))) {
        clearInterval(poll);
        signals.emit('SIGINT', 'SIGINT');
      }
    }, 5);
    const error = await runInitRandom(dir, { quiet: true }, { out: () => undefined, err: () => undefined }, signals)
      .catch((thrown: unknown) => thrown)
      .finally(() => clearInterval(poll));
    expect(error).toBeInstanceOf(InterruptedError);
    expect((error as InterruptedError).message).toBe(
      `interrupted (SIGINT): the model folder ${dir} was not written; nothing partial is left`,
    );
    expect(readdirSync(dir)).toEqual(['config.json']);
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe('the old config\n');
    expect(signals.listenerCount('SIGINT')).toBe(0);
  });
});

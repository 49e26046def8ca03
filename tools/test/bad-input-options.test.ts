/**
 * #15 class 6: everything that can be checked is checked before the model loads (seconds; minutes
 * for 7B): numbers read strictly, the image's header and budget, the prompt's length and
 * --max-new-tokens against the context, --max-context, sampling options, the --dump path. Every
 * refused command line exits 2, whether commander or our checks refuse it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FastVLM } from '@fastvlm/llava';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../src/cli/errors.js';
import { integerFlag, realFlag } from '../src/cli/number-flags.js';
import { fastvlm, writeSmallPng, writeWeightlessModel } from './bad-input-helpers.js';

let root: string;
let model: string;
let png: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fastvlm-bad-options-'));
  model = await writeWeightlessModel(join(root, 'model'));
  png = await writeSmallPng(join(root, 'small.png'));
}, 60_000);
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Runs the command and expects one error line matching `line`, exit `code`, and no model loaded. */
async function refused(args: string[], code: number, line: RegExp): Promise<void> {
  const load = vi.spyOn(FastVLM, 'load');
  const run = await fastvlm(...args);
  expect(run.stderr).toMatch(/^error: [^\n]+\n$/);
  expect(run.stderr.slice('error: '.length, -1)).toMatch(line);
  expect(run.code).toBe(code);
  expect(load).not.toHaveBeenCalled();
}

const NOT_INTEGERS = ['0x10', '1e3', ' 16', '16 ', '16abc', '', '1.5', '+16', 'Infinity', '99999999999999999999'];

describe('bad input: numbers', () => {
  it.each(NOT_INTEGERS)('integerFlag refuses %j', (value) => {
    expect(() => integerFlag('--n', value, { min: 1 })).toThrow(UsageError);
    expect(() => integerFlag('--n', value, { min: 1 })).toThrow(`--n must be an integer >= 1, got '${value}'`);
  });

  it.each(['-1', '0'])('integerFlag refuses %j below the minimum', (value) => {
    expect(() => integerFlag('--n', value, { min: 1 })).toThrow(UsageError);
  });

  it.each(['0x1', 'Infinity', '-Infinity', 'NaN', ' 0.5', '0.5 ', '1e999', '', '.', '1,5', '--1'])(
    'realFlag refuses %j',
    (value) => {
      expect(() => realFlag('--t', value, { min: 0 })).toThrow(UsageError);
    },
  );

  it('reads plain numbers as written', () => {
    expect(integerFlag('--n', '16', { min: 1 })).toBe(16);
    expect(integerFlag('--n', '-3')).toBe(-3);
    expect(integerFlag('--n', undefined)).toBeUndefined();
    expect(realFlag('--t', '0.7', { min: 0 })).toBe(0.7);
    expect(realFlag('--t', '1e-3', { min: 0 })).toBe(0.001);
    expect(realFlag('--t', '.5', { min: 0 })).toBe(0.5);
    expect(() => realFlag('--p', '0', { min: 0, minExclusive: true, max: 1 })).toThrow(
      "--p must be a number in (0, 1], got '0'",
    );
    expect(() => integerFlag('--k', '5', { min: 0, max: 4 })).toThrow("--k must be an integer in [0, 4], got '5'");
  });
});

describe('bad input: options', { timeout: 30_000 }, () => {
  it.each([
    ['--max-new-tokens', '0x10', /^--max-new-tokens must be an integer >= 1, got '0x10'$/],
    ['--max-new-tokens', '1e3', /^--max-new-tokens must be an integer >= 1/],
    ['--max-new-tokens', ' 16', /^--max-new-tokens must be an integer >= 1/],
    ['--max-new-tokens', '16abc', /^--max-new-tokens must be an integer >= 1/],
    ['--max-new-tokens', '-5', /^--max-new-tokens must be an integer >= 1/],
    ['--max-new-tokens', '99999999999999999999', /^--max-new-tokens must be an integer >= 1/],
    ['--temperature', '0x1', /^--temperature must be a number >= 0/],
    ['--temperature', '-0.5', /^--temperature must be a number >= 0/],
    ['--top-p', '0', /^--top-p must be a number in \(0, 1\]/],
    ['--top-p', '1.5', /^--top-p must be a number in \(0, 1\]/],
    ['--top-k', '2.5', /^--top-k must be an integer >= 0/],
    ['--seed', '1e3', /^--seed must be an integer/],
    ['--dtype', 'f64', /^--dtype must be 'f32', 'f16', 'int8', 'int4', got 'f64'/],
    ['--vision-dtype', 'int4', /^--vision-dtype must be 'f32', 'f16', 'int8', got 'int4'/],
  ])('describe %s %j: exit 2 before loading', async (flag, value, line) => {
    await refused(['describe', png, '--model', model, flag, value], 2, line);
  });

  it.each([
    ['--max-new-tokens', '0'],
    ['--max-context', '0x100'],
    ['--max-context', '0'],
    ['--top-k', '-1'],
  ])('chat %s %j: exit 2 before loading', async (flag, value) => {
    await refused(['chat', '--model', model, flag, value], 2, new RegExp(`^${flag} must be`));
  });

  it.each([
    [['describe', '--bogus'], /^unknown option '--bogus'$/],
    [['describe', 'a.png', 'b.png'], /too many arguments/],
    [['describe', '--model'], /option '--model <dir>' argument missing/],
    [['nonsense'], /unknown command 'nonsense'/],
    [['pull'], /missing required argument 'repo'/],
    [['tokenize', '--text', 'a'], /required option '--model <dir>' not specified/],
  ])('commander refuses %j with the same exit code 2', async (args, line) => {
    await refused(args, 2, line);
  });

  it('checks --max-new-tokens against the model context before loading', async () => {
    await refused(
      ['describe', png, '--model', model, '--max-new-tokens', '40000'],
      2,
      /^--max-new-tokens 40000 is too many: the prompt takes \d+ positions .*context is 32768, so at most \d+ new tokens fit$/,
    );
  });

  it('checks the prompt length before loading', async () => {
    await refused(
      ['describe', png, '--model', model, '--prompt', 'lorem ipsum '.repeat(20_000)],
      2,
      /^--prompt is too long: with the image it takes \d+ positions, above the model's context of 32768$/,
    );
  });

  it('checks --max-context against the model and against the system prompt and image', async () => {
    await refused(
      ['chat', '--model', model, '--max-context', '40000'],
      2,
      /^--max-context must be at most the model's context of 32768, got 40000$/,
    );
    await refused(
      ['chat', '--model', model, '--image', png, '--max-context', '30'],
      2,
      /^--max-context 30 leaves no room for a turn: the shortest first turn takes \d+ positions \(system prompt, image and chat markup\)/,
    );
    await refused(
      ['chat', '--model', model, '--system', 'word '.repeat(200), '--max-context', '100', '--max-new-tokens', '1'],
      2,
      /^--max-context 100 leaves no room for a turn/,
    );
  });

  it('reads the image header and its budget before loading', async () => {
    // A valid PNG header claiming 30000 x 30000 pixels (2.5 GB of RGB): refused by the decoding budget.
    const huge = Buffer.from(readFileBytes(png));
    huge.writeUInt32BE(30_000, 16);
    huge.writeUInt32BE(30_000, 20);
    huge.writeUInt32BE(pngCrc(huge.subarray(12, 29)), 29);
    const hugePath = join(root, 'huge.png');
    writeFileSync(hugePath, huge);
    await refused(['describe', hugePath, '--model', model], 1, /huge\.png: .*over the budget/);
    const text = join(root, 'notes.png');
    writeFileSync(text, 'just some text\n');
    await refused(['describe', text, '--model', model], 1, /notes\.png: .*only PNG and JPEG images are supported/);
    const truncated = join(root, 'truncated.png');
    writeFileSync(truncated, readFileBytes(png).subarray(0, 20));
    await refused(['describe', truncated, '--model', model], 1, /truncated\.png: /);
    const empty = join(root, 'empty.png');
    writeFileSync(empty, '');
    await refused(['describe', empty, '--model', model], 1, /empty\.png: the image is empty/);
  });

  it('checks the --dump path before loading, not after generating', async () => {
    await refused(
      ['describe', png, '--model', model, '--dump', join(root, 'missing', 'dump.safetensors')],
      1,
      /^--dump .*dump\.safetensors: the folder .*missing does not exist$/,
    );
  });
});

function readFileBytes(path: string): Buffer {
  return readFileSync(path);
}

/** The CRC-32 PNG chunks carry (over type and data). */
function pngCrc(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

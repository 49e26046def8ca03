/**
 * #15 class 1: every path a user gives the CLI is checked before it is opened. A FIFO would block the
 * read forever, a device would never end, a symlink loop or a folder would give a misleading error,
 * and `mkdir(recursive)` under /proc loops forever: each is one error line naming the flag and the
 * path, within seconds, and no model is loaded.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FastVLM } from '@fastvlm/llava';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { fastvlm, makeFifo, makeSymlinkLoop, writeSmallPng, writeWeightlessModel } from './bad-input-helpers.js';

let root: string;
let model: string;
let png: string;
let fifo: string;
let loop: string;
let aFile: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fastvlm-bad-paths-'));
  model = await writeWeightlessModel(join(root, 'model'));
  png = await writeSmallPng(join(root, 'small.png'));
  fifo = makeFifo(join(root, 'fifo'));
  loop = await makeSymlinkLoop(root);
  aFile = join(root, 'a-file');
  writeFileSync(aFile, 'not a folder');
  // Model folders whose config.json or tokenizer.json is a FIFO.
  await mkdir(join(root, 'fifo-config'));
  makeFifo(join(root, 'fifo-config', 'config.json'));
  await writeWeightlessModel(join(root, 'fifo-tokenizer'));
  await rm(join(root, 'fifo-tokenizer', 'tokenizer.json'));
  makeFifo(join(root, 'fifo-tokenizer', 'tokenizer.json'));
}, 60_000);
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

type Case = [string, () => string[], () => RegExp];

const CASES: Case[] = [
  [
    'image: a FIFO',
    () => ['describe', fifo, '--model', model],
    () => /^image .*fifo: is not a regular file: it is a FIFO/,
  ],
  [
    'image: a character device',
    () => ['describe', '/dev/zero', '--model', model],
    () => /^image \/dev\/zero: .*character device/,
  ],
  [
    'image: a symlink loop',
    () => ['describe', loop, '--model', model],
    () => /^image .*loop-a: .*symbolic links.*ELOOP/,
  ],
  [
    'image: a folder',
    () => ['describe', root, '--model', model],
    () => /^image .*: is not a regular file: it is a folder$/,
  ],
  [
    'image: missing',
    () => ['describe', join(root, 'none.png'), '--model', model],
    () => /^image .*none\.png: does not exist$/,
  ],
  [
    'image: under a regular file',
    () => ['describe', join(aFile, 'x.png'), '--model', model],
    () => /^image .*a-file\/x\.png: .*not a folder/,
  ],
  ['image: an empty path', () => ['describe', '', '--model', model], () => /^image '': the path is empty$/],
  [
    'chat --image: a FIFO',
    () => ['chat', '--image', fifo, '--model', model],
    () => /^--image .*fifo: is not a regular file: it is a FIFO/,
  ],
  ['--model: a FIFO', () => ['describe', png, '--model', fifo], () => /^--model .*fifo: is not a folder: it is a FIFO/],
  [
    '--model: a regular file',
    () => ['describe', png, '--model', png],
    () => /^--model .*small\.png: is not a folder: it is a regular file$/,
  ],
  [
    '--model: missing',
    () => ['describe', png, '--model', join(root, 'nope')],
    () => /^--model .*nope: does not exist$/,
  ],
  [
    '--model: config.json a FIFO',
    () => ['describe', png, '--model', join(root, 'fifo-config')],
    () => /config\.json: is not a regular file: it is a FIFO/,
  ],
  [
    '--model: tokenizer.json a FIFO',
    () => ['describe', png, '--model', join(root, 'fifo-tokenizer')],
    () => /tokenizer\.json.*FIFO/,
  ],
  [
    'tokenize --model: config-less FIFO tokenizer',
    () => ['tokenize', '--model', join(root, 'fifo-tokenizer'), '--text', 'a'],
    () => /tokenizer\.json.*FIFO/,
  ],
  [
    'tokenize --file: a FIFO',
    () => ['tokenize', '--model', model, '--file', fifo],
    () => /^--file .*fifo: is not a regular file: it is a FIFO/,
  ],
  [
    'tokenize --file: a folder',
    () => ['tokenize', '--model', model, '--file', root],
    () => /^--file .*: is not a regular file: it is a folder$/,
  ],
  [
    '--dump: a folder',
    () => ['describe', png, '--model', model, '--dump', root],
    () => /^--dump .*: is not a regular file: it is a folder$/,
  ],
  [
    '--dump: a FIFO',
    () => ['describe', png, '--model', model, '--dump', fifo],
    () => /^--dump .*fifo: is not a regular file: it is a FIFO/,
  ],
  [
    '--dump: in a missing folder',
    () => ['describe', png, '--model', model, '--dump', join(root, 'no', 'd.st')],
    () => /^--dump .*d\.st: the folder .*no does not exist$/,
  ],
  [
    '--dump: in a regular file',
    () => ['describe', png, '--model', model, '--dump', join(aFile, 'd.st')],
    () => /^--dump .*: .*a-file is not a folder|^--dump .*a-file\/d\.st: .*not a folder/,
  ],
  [
    '--dump: under /proc',
    () => ['describe', png, '--model', model, '--dump', '/proc/fastvlm/d.st'],
    () => /^--dump \/proc\/fastvlm\/d\.st: the folder \/proc\/fastvlm does not exist$/,
  ],
  [
    '--dump: into /proc itself',
    () => ['describe', png, '--model', model, '--dump', '/proc/d.st'],
    () => /^--dump \/proc\/d\.st: cannot create files in \/proc/,
  ],
  [
    'init-random: under /proc (mkdir -p would loop)',
    () => ['init-random', '/proc/fastvlm/a/b', '--quiet'],
    () => /^init-random \/proc\/fastvlm\/a\/b: cannot create files in \/proc/,
  ],
  [
    'init-random: a regular file',
    () => ['init-random', aFile, '--quiet'],
    () => /^init-random .*a-file: is not a folder: it is a regular file$/,
  ],
  [
    'init-random: inside a regular file',
    () => ['init-random', join(aFile, 'sub'), '--quiet'],
    () => /^init-random .*a-file\/sub: a part of the path is not a folder \(ENOTDIR\)$/,
  ],
  [
    'pull --out: under /proc',
    () => ['pull', 'acme/x', '--out', '/proc/fastvlm/x', '--quiet'],
    () => /^acme\/x: --out \/proc\/fastvlm\/x: cannot create files in \/proc/,
  ],
  [
    'pull --out: a regular file',
    () => ['pull', 'acme/x', '--out', aFile, '--quiet'],
    () => /^acme\/x: --out .*a-file: is not a folder/,
  ],
];

describe('bad input: paths', { timeout: 20_000 }, () => {
  it.each(CASES)('%s: one line naming it, exit 1, in seconds, no model loaded', async (_name, args, expected) => {
    const load = vi.spyOn(FastVLM, 'load');
    const run = await fastvlm(...args());
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: [^\n]+\n$/);
    expect(run.stderr.slice('error: '.length, -1)).toMatch(expected());
    expect(run.code).toBe(1);
    expect(run.ms).toBeLessThan(10_000);
    expect(load).not.toHaveBeenCalled();
  });

  it.each([
    ['describe', () => ['describe', fifo]],
    ['chat', () => ['chat', '--image', fifo]],
  ])('%s without --model refuses the image before writing the demo model', async (_name, args) => {
    const cache = join(root, 'cache');
    vi.stubEnv('FASTVLM_CACHE', cache);
    const run = await fastvlm(...args());
    vi.unstubAllEnvs();
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: (image|--image) .*fifo: is not a regular file: it is a FIFO \(named pipe\)\n$/);
    expect(existsSync(cache)).toBe(false);
  });

  it('leaves nothing behind in /proc or next to the paths it refused', () => {
    expect(existsSync('/proc/fastvlm')).toBe(false);
    expect(readdirSync(root).filter((name) => name.startsWith('.fastvlm-write-check'))).toEqual([]);
  });
});

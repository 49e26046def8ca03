/**
 * What the bad-input tests share: the CLI run in-process with its output captured, a model folder
 * with config.json and tokenizer files but no weights (all the checks before loading need), a small
 * valid PNG, and the odd files a careless or hostile user may name (FIFOs, symlink loops).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomCheckpointConfig } from '../src/checkpoint/random-checkpoint.js';
import { writeQwen2TokenizerFiles } from '../src/checkpoint/tokenizer-files.js';
import { runCli } from '../src/cli/main.js';
import { encodePng } from '../src/demo/test-card.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** `fastvlm ARGS` in-process; stdin is never read by the checks under test. */
export async function fastvlm(...args: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const started = performance.now();
  const code = await runCli(['node', 'fastvlm', ...args], {
    writeOut: (text) => void (stdout += text),
    writeErr: (text) => void (stderr += text),
  });
  return { code, stdout, stderr, ms: performance.now() - started };
}

/** A folder with the tiny preset's config.json and Qwen2's tokenizer files, and no weights. */
export async function writeWeightlessModel(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify(randomCheckpointConfig('tiny')));
  await writeQwen2TokenizerFiles(dir);
  return dir;
}

/** An 8x8 RGB PNG. */
export async function writeSmallPng(path: string): Promise<string> {
  await writeFile(path, encodePng(new Uint8Array(8 * 8 * 3).fill(128), 8, 8));
  return path;
}

export function makeFifo(path: string): string {
  execFileSync('mkfifo', [path]);
  return path;
}

/** Two symbolic links pointing at each other; returns one of them. */
export async function makeSymlinkLoop(dir: string): Promise<string> {
  await symlink(join(dir, 'loop-b'), join(dir, 'loop-a'));
  await symlink(join(dir, 'loop-a'), join(dir, 'loop-b'));
  return join(dir, 'loop-a');
}

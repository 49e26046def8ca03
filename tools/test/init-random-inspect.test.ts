/**
 * `fastvlm init-random` then `fastvlm inspect` in-process: the tiny preset written with progress,
 * inspected as complete; bad flags as usage errors; an incomplete or unloadable folder as one
 * error line and a non-zero exit code.
 */
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelFolderError } from '@fastvlm/llava';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as initRandom from '../src/cli/commands/init-random.js';
import { runInitRandom } from '../src/cli/commands/init-random.js';
import * as inspect from '../src/cli/commands/inspect.js';
import { runInspect } from '../src/cli/commands/inspect.js';
import { InputError, reportError, UsageError } from '../src/cli/errors.js';
import type { CliOutput } from '../src/cli/output.js';

let root: string;
let tiny: string;
let written: { stdout: string; stderr: string };

function capture(): CliOutput & { stdout: string; stderr: string } {
  const output = {
    stdout: '',
    stderr: '',
    out: (text: string) => void (output.stdout += text),
    err: (text: string) => void (output.stderr += text),
  };
  return output;
}

/** Runs `fastvlm ARGS` through a program holding only these two commands; returns the exit code and output. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const program = new Command('fastvlm')
    .exitOverride()
    .configureOutput({ writeOut: (t) => (stdout += t), writeErr: (t) => (stderr += t) });
  initRandom.register(program);
  inspect.register(program);
  let code = 0;
  try {
    await program.parseAsync(['node', 'fastvlm', ...args]);
  } catch (error) {
    code = reportError(error, (t) => (stderr += t), {});
  }
  return { code, stdout, stderr };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fastvlm-cli-'));
  tiny = join(root, 'tiny');
  const output = capture();
  await runInitRandom(tiny, { preset: 'tiny', seed: '3', live: false }, output);
  written = output;
}, 60_000);
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('fastvlm init-random', () => {
  it('writes the tiny preset with progress on stderr and a summary on stdout', async () => {
    expect(written.stdout).toMatch(
      /^wrote .*tiny: preset tiny, 2 layers, mobileclip_l_256 \(16 image tokens\), 659 tensors, 135\.1 M elements, float16, 257\.8 MiB in model\.safetensors, seed 3, [\d.]+ s\n$/,
    );
    const lines = written.stderr.trim().split('\n');
    expect(lines).toHaveLength(10);
    expect(lines.at(-1)).toMatch(/^checkpoint: 100% \(257\.8 MiB of 257\.8 MiB\)$/);
    const config = JSON.parse(await readFile(join(tiny, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({
      model_type: 'llava_qwen2',
      mm_vision_tower: 'mobileclip_l_256',
      hidden_size: 64,
      torch_dtype: 'float16',
    });
  });

  it('refuses bad flags as usage errors', async () => {
    const bad: [initRandom.InitRandomFlags, RegExp][] = [
      [{ preset: '3b' }, /--preset must be 'tiny' or '0\.5b' or '1\.5b' or '7b', got '3b'/],
      [{ dtype: 'bf16' }, /--dtype must be 'bfloat16' or 'float16' or 'float32'/],
      [{ maxShardBytes: '0' }, /--max-shard-bytes must be an integer >= 1, got '0'/],
      [{ layers: '0' }, /--layers must be an integer >= 1, got '0'/],
      [{ layers: '2.5' }, /--layers must be an integer/],
      [{ imageSize: '100' }, /--image-size must be a multiple of 64/],
      [{ seed: 'abc' }, /--seed must be an integer/],
    ];
    for (const [flags, message] of bad) {
      const error: unknown = await runInitRandom(join(root, 'never'), flags, capture()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).toMatch(message);
    }
    const { code, stderr } = await cli('init-random', join(root, 'never'), '--preset', 'huge');
    expect(code).toBe(2);
    expect(stderr).toBe("error: --preset must be 'tiny' or '0.5b' or '1.5b' or '7b', got 'huge'\n");
  });
});

describe('fastvlm inspect', () => {
  it('prints the report of a complete folder and exits 0', async () => {
    const output = capture();
    const report = await runInspect(tiny, {}, output);
    expect(report.complete).toBe(true);
    expect(output.stdout).toContain('complete: yes, all 659 expected tensors');
    expect(output.stdout).toContain('tokenizer: tokenizer.json, tokenizer_config.json');
    const { code, stdout } = await cli('inspect', tiny, '--json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ complete: true, tensorCount: 659, config: { imageTokens: 16 } });
  });

  it('prints the report of an incomplete folder, then one error line and exit 1', async () => {
    // The tiny checkpoint under a config that asks for a third decoder layer.
    const incomplete = join(root, 'incomplete');
    await mkdir(incomplete);
    await symlink(join(tiny, 'model.safetensors'), join(incomplete, 'model.safetensors'));
    const config = JSON.parse(await readFile(join(tiny, 'config.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(incomplete, 'config.json'), JSON.stringify({ ...config, num_hidden_layers: 3 }));
    const error: unknown = await runInspect(incomplete, {}, capture()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    const { code, stdout, stderr } = await cli('inspect', incomplete);
    expect(code).toBe(1);
    expect(stdout).toContain('complete: NO: 12 missing');
    expect(stdout).toContain('model.layers.2.self_attn.q_proj.weight [64, 64]');
    expect(stderr).toBe(`error: ${incomplete}: the checkpoint does not match config.json: tensors 12 missing\n`);
  });

  it('exits 1 with one line when the folder cannot be loaded', async () => {
    const error: unknown = await runInspect(join(root, 'absent'), {}, capture()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelFolderError);
    const broken = join(root, 'broken');
    await mkdir(broken);
    await writeFile(join(broken, 'config.json'), '{ nope');
    const { code, stdout, stderr } = await cli('inspect', broken);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(new RegExp(`^error: ${broken}: config.json is not valid JSON: [^\\n]+\\n$`));
  });
});

/**
 * Model folders on disk (issue 15 class 1): every path checked before it is opened. A FIFO, a
 * device, a socket, a symbolic-link loop or a folder where a file belongs is refused with an error
 * naming the path — promptly, never a read that blocks.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, symlink, truncate, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  encodeSafetensors,
  ModelSourceError,
  openModelFolder,
  readTextFile,
  SafetensorsCheckpoint,
  SafetensorsError,
} from '../src/index.js';
import { locateNodePath, nodeFolder } from '../src/node/index.js';
import { makeTempDir, removeTempDir } from './safetensors-helpers.js';

/** Rejects within `ms` or fails the test: the point of these cases is that nothing blocks. */
async function promptly<T>(promise: Promise<T>, ms = 5000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('bad input: model folder paths (nodeFolder: every path checked before it is opened)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('refuses a folder path that is missing, a file, a FIFO or a symlink loop, naming it', async () => {
    await expect(nodeFolder(join(dir, 'absent'))).rejects.toThrow(/absent: no such folder/);
    await writeFile(join(dir, 'file'), 'x');
    await expect(nodeFolder(join(dir, 'file'))).rejects.toThrow(/file: is not a folder: it is a regular file/);
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    await expect(promptly(nodeFolder(join(dir, 'fifo')))).rejects.toThrow(/fifo: is not a folder: it is a FIFO/);
    await symlink(join(dir, 'loop-b'), join(dir, 'loop-a'));
    await symlink(join(dir, 'loop-a'), join(dir, 'loop-b'));
    await expect(nodeFolder(join(dir, 'loop-a'))).rejects.toThrow(/loop-a: is a loop of symbolic links/);
    await expect(openModelFolder(join(dir, 'absent'))).rejects.toBeInstanceOf(ModelSourceError);
  });

  it('opens regular files only: a FIFO, a device, a socket, a folder or a loop as a file is refused by name', async () => {
    const folder = await nodeFolder(dir);
    execFileSync('mkfifo', [join(dir, 'config.json')]);
    await expect(promptly(folder.open('config.json'))).rejects.toThrow(
      /config\.json: is not a regular file: it is a FIFO/,
    );
    await expect(promptly(readTextFile(folder, 'config.json'))).rejects.toBeInstanceOf(ModelSourceError);
    await symlink('/dev/zero', join(dir, 'tokenizer.json'));
    await expect(promptly(folder.open('tokenizer.json'))).rejects.toThrow(
      /is not a regular file: it is a character device/,
    );
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(dir, 'sock'), resolve));
    try {
      await expect(folder.open('sock')).rejects.toThrow(/sock: is not a regular file: it is a socket/);
    } finally {
      server.close();
    }
    await mkdir(join(dir, 'model.safetensors'));
    await expect(folder.open('model.safetensors')).rejects.toThrow(/is not a regular file: it is a folder/);
    await symlink(join(dir, 'l2'), join(dir, 'l1'));
    await symlink(join(dir, 'l1'), join(dir, 'l2'));
    await expect(folder.open('l1')).rejects.toThrow(/l1: is a loop of symbolic links/);
    // absent is not an error: the caller decides (tokenizer.json or vocab.json + merges.txt)
    expect(await folder.open('absent.json')).toBeUndefined();
    expect(await folder.open('no/such/sub.json')).toBeUndefined();
  });

  it('refuses names that leave the folder, and reports a file cut short while it is read', async () => {
    const folder = await nodeFolder(dir);
    for (const name of ['../x', '/etc/passwd', 'a//b', './a', 'a\\b', ''])
      await expect(folder.open(name)).rejects.toThrow(ModelSourceError);
    await writeFile(join(dir, 'data.bin'), new Uint8Array(100).fill(7));
    const file = await folder.open('data.bin');
    expect(file?.size).toBe(100);
    await truncate(join(dir, 'data.bin'), 40);
    await expect(file!.readInto(new Uint8Array(100), 0)).rejects.toThrow(
      /data\.bin: file is truncated: expected 100 bytes at offset 0, the file ends after 40/,
    );
    await file!.close();
  });

  it('a checkpoint whose model.safetensors or shard is a FIFO is refused, never read', async () => {
    execFileSync('mkfifo', [join(dir, 'model.safetensors')]);
    const opening = SafetensorsCheckpoint.open(dir);
    await expect(promptly(opening)).rejects.toBeInstanceOf(SafetensorsError);
    await expect(promptly(SafetensorsCheckpoint.open(dir))).rejects.toThrow(/is not a regular file: it is a FIFO/);
    await expect(promptly(locateNodePath(join(dir, 'model.safetensors')))).rejects.toThrow(/it is a FIFO/);
    const sharded = join(dir, 'sharded');
    await mkdir(sharded);
    await writeFile(
      join(sharded, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { a: 'model-1.safetensors' } }),
    );
    execFileSync('mkfifo', [join(sharded, 'model-1.safetensors')]);
    await expect(promptly(SafetensorsCheckpoint.open(sharded))).rejects.toThrow(
      /model-1\.safetensors: is not a regular file: it is a FIFO/,
    );
    // and a healthy one still opens through the same path
    const ok = join(dir, 'ok');
    await mkdir(ok);
    await writeFile(
      join(ok, 'model.safetensors'),
      encodeSafetensors({ a: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } }),
    );
    const ckpt = await SafetensorsCheckpoint.open(ok);
    expect(Array.from(await ckpt.readAsFloat32('a'))).toEqual([1, 2]);
    await ckpt.close();
  });
});

/**
 * Model folders a browser user picked: `<input webkitdirectory>` files (names relative to the picked
 * folder), a `{ name: Blob }` map, and File System Access directory handles.
 */
import { describe, expect, it } from 'vitest';
import {
  blobFolder,
  directoryHandleFolder,
  encodeSafetensors,
  readTextFile,
  SafetensorsCheckpoint,
  type DirectoryHandle,
  type PickedFile,
} from '../src/index.js';

function picked(path: string, content: Uint8Array | string): PickedFile {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return Object.assign(new Blob([content]), { name, webkitRelativePath: path });
}

const weights = encodeSafetensors({ w: { dtype: 'F32', shape: [4], data: new Float32Array([1, -2, 3, -4]) } });

describe('blobFolder', () => {
  it('names files relative to the picked folder and reads checkpoints and text from them', async () => {
    const folder = blobFolder([
      picked('FastVLM-0.5B/config.json', '{"x":1}'),
      picked('FastVLM-0.5B/model.safetensors', weights),
      picked('FastVLM-0.5B/sub/extra.txt', 'e'),
    ]);
    expect(folder.location).toBe('picked folder "FastVLM-0.5B"');
    expect((await folder.list!()).sort()).toEqual(['config.json', 'model.safetensors', 'sub/extra.txt']);
    expect(await readTextFile(folder, 'config.json')).toBe('{"x":1}');
    expect(await readTextFile(folder, 'sub/extra.txt')).toBe('e');
    expect(await folder.open('tokenizer.json')).toBeUndefined();
    const checkpoint = await SafetensorsCheckpoint.open(folder);
    expect(Array.from(await checkpoint.readAsFloat32('w'))).toEqual([1, -2, 3, -4]);
    await checkpoint.close();
  });

  it('takes a name -> Blob map, refuses bad names and reads past the end', async () => {
    const folder = blobFolder({ 'model.safetensors': new Blob([weights]) }, 'dropped files');
    expect(folder.pathOf('model.safetensors')).toBe('dropped files/model.safetensors');
    await expect(folder.open('../x')).rejects.toThrow(/escapes the folder/);
    const file = (await folder.open('model.safetensors'))!;
    await expect(file.readInto(new Uint8Array(10), weights.byteLength - 4)).rejects.toThrow(/file is truncated/);
    await expect(SafetensorsCheckpoint.open(blobFolder({ 'config.json': new Blob(['{}']) }))).rejects.toThrow(
      /folder holds neither model\.safetensors nor model\.safetensors\.index\.json/,
    );
  });
});

describe('directoryHandleFolder', () => {
  /** A File System Access directory handle over a nested object of Blobs. */
  function handle(name: string, tree: Record<string, Blob | object>): DirectoryHandle {
    const domError = (kind: string): Error => Object.assign(new Error(kind), { name: kind });
    return {
      kind: 'directory',
      name,
      async getDirectoryHandle(child) {
        const entry = tree[child];
        if (entry === undefined) throw domError('NotFoundError');
        if (entry instanceof Blob) throw domError('TypeMismatchError');
        return handle(child, entry as Record<string, Blob | object>);
      },
      async getFileHandle(child) {
        const entry = tree[child];
        if (entry === undefined) throw domError('NotFoundError');
        if (!(entry instanceof Blob)) throw domError('TypeMismatchError');
        return { getFile: async () => entry };
      },
      async *entries() {
        for (const [key, entry] of Object.entries(tree))
          yield [key, { kind: entry instanceof Blob ? 'file' : 'directory' }] as [
            string,
            { kind: 'file' | 'directory' },
          ];
      },
    };
  }

  it('walks subfolders, lists files, and maps DOM errors to typed ones', async () => {
    const folder = directoryHandleFolder(
      handle('tiny', {
        'model.safetensors': new Blob([weights]),
        'config.json': new Blob(['{}']),
        sub: { 'a.txt': new Blob(['a']) },
      }),
    );
    expect(folder.location).toBe('picked folder "tiny"');
    expect((await folder.list!()).sort()).toEqual(['config.json', 'model.safetensors', 'sub/a.txt']);
    expect(await readTextFile(folder, 'sub/a.txt')).toBe('a');
    expect(await folder.open('absent')).toBeUndefined();
    await expect(folder.open('sub')).rejects.toThrow(/picked folder "tiny"\/sub: is a folder, not a file/);
    const checkpoint = await SafetensorsCheckpoint.open(folder);
    expect(Array.from(await checkpoint.readAsFloat32('w'))).toEqual([1, -2, 3, -4]);
    await checkpoint.close();
  });
});

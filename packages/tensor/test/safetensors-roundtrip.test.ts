import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SafetensorsError } from '../src/errors.js';
import { f32ArrayToBf16, f32ArrayToF16 } from '../src/half.js';
import {
  SAFETENSORS_DTYPES,
  SafetensorsCheckpoint,
  SafetensorsFile,
  encodeSafetensors,
  parseSafetensorsHeader,
} from '../src/safetensors/index.js';
import type { SafetensorsDType, TensorToWrite } from '../src/safetensors/index.js';
import { bytesOf, makeTempDir, rawSafetensors, removeTempDir, writeBytes } from './safetensors-helpers.js';
import { writeSafetensors } from '../src/node/index.js';

/** Six values per dtype (shape [2, 3]) and the f32 each should read back as. */
const SAMPLES: Record<SafetensorsDType, { data: ArrayBufferView; floats: number[] }> = {
  F64: { data: new Float64Array([1.5, -2.25, 0, 1e-3, 3, -7]), floats: [1.5, -2.25, 0, Math.fround(1e-3), 3, -7] },
  F32: { data: new Float32Array([0.5, -1, 2.75, 1e6, -0, 42]), floats: [0.5, -1, 2.75, 1e6, -0, 42] },
  F16: {
    data: f32ArrayToF16([1, -2, 0.5, 65504, 0.0999755859375, -0.25]),
    floats: [1, -2, 0.5, 65504, 0.0999755859375, -0.25],
  },
  BF16: {
    data: f32ArrayToBf16([1, -2, 0.5, 3.140625, 2 ** 100, -0.125]),
    floats: [1, -2, 0.5, 3.140625, 2 ** 100, -0.125],
  },
  I64: {
    data: new BigInt64Array([-(2n ** 40n), 2n ** 40n, 0n, -1n, 7n, 123456n]),
    floats: [-(2 ** 40), 2 ** 40, 0, -1, 7, 123456],
  },
  I32: {
    data: new Int32Array([-2147483648, 2147483647, 0, -1, 5, 1000]),
    floats: [-2147483648, 2147483648, 0, -1, 5, 1000],
  },
  I16: { data: new Int16Array([-32768, 32767, 0, -1, 5, 300]), floats: [-32768, 32767, 0, -1, 5, 300] },
  I8: { data: new Int8Array([-128, 127, 0, -1, 5, 30]), floats: [-128, 127, 0, -1, 5, 30] },
  U8: { data: new Uint8Array([0, 255, 1, 2, 128, 64]), floats: [0, 255, 1, 2, 128, 64] },
  BOOL: { data: new Uint8Array([0, 1, 1, 0, 1, 0]), floats: [0, 1, 1, 0, 1, 0] },
};

let dir = '';
beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(async () => {
  await removeTempDir(dir);
});

describe('safetensors round trip', () => {
  it.each(SAFETENSORS_DTYPES)('writes and reads back %s bytes, shape and values', async (dtype) => {
    const sample = SAMPLES[dtype];
    const path = join(dir, `${dtype}.safetensors`);
    await writeSafetensors(path, { t: { dtype, shape: [2, 3], data: sample.data } });
    const file = await SafetensorsFile.open(path);
    try {
      const entry = file.entry('t');
      expect(entry).toMatchObject({ name: 't', dtype, shape: [2, 3], byteLength: sample.data.byteLength, file: path });
      expect(await file.read('t')).toEqual(new Uint8Array(bytesOf(sample.data)));
      expect(Array.from(await file.readAsFloat32('t'))).toEqual(sample.floats);
    } finally {
      await file.close();
    }
  });

  it('round-trips every dtype together, incl. a 0-d scalar and empty tensors', async () => {
    const tensors: Record<string, TensorToWrite> = {};
    for (const dtype of SAFETENSORS_DTYPES) tensors[`w.${dtype}`] = { dtype, shape: [3, 2], data: SAMPLES[dtype].data };
    tensors.scalar = { dtype: 'F32', shape: [], data: new Float32Array([3.5]) };
    tensors.empty = { dtype: 'F16', shape: [4, 0, 2], data: new Uint16Array(0) };
    tensors.empty1d = { dtype: 'I64', shape: [0], data: new BigInt64Array(0) };
    const path = join(dir, 'all.safetensors');
    await writeSafetensors(path, tensors);
    const file = await SafetensorsFile.open(path);
    try {
      expect(file.names()).toEqual(Object.keys(tensors));
      for (const [name, t] of Object.entries(tensors)) {
        expect(file.entry(name).shape).toEqual(t.shape);
        expect(await file.read(name)).toEqual(new Uint8Array(bytesOf(t.data)));
      }
      expect(file.entry('scalar').byteLength).toBe(4);
      expect(Array.from(await file.readAsFloat32('scalar'))).toEqual([3.5]);
      expect(file.entry('empty').byteLength).toBe(0);
      expect(await file.read('empty')).toEqual(new Uint8Array(0));
      expect(await file.readAsFloat32('empty1d')).toEqual(new Float32Array(0));
    } finally {
      await file.close();
    }
  });

  it('round-trips metadata, and a file with no tensors', async () => {
    const metadata = { format: 'pt', note: 'héllo "quoted" ✓', __proto__key: 'x' };
    const path = join(dir, 'meta.safetensors');
    await writeSafetensors(path, {}, metadata);
    const file = await SafetensorsFile.open(path);
    expect(file.metadata).toEqual(metadata);
    expect(file.names()).toEqual([]);
    await file.close();
    const plain = await SafetensorsFile.open(await writeBytes(dir, 'plain.safetensors', encodeSafetensors({})));
    expect(plain.metadata).toEqual({});
    await plain.close();
  });

  it('writes a header padded with spaces to a multiple of 8, tensors contiguous in insertion order', () => {
    const bytes = encodeSafetensors(
      {
        b: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) },
        a: { dtype: 'F32', shape: [1], data: new Float32Array([1]) },
      },
      { k: 'v' },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text).toMatch(/} *$/);
    expect(JSON.parse(text)).toEqual({
      __metadata__: { k: 'v' },
      b: { dtype: 'U8', shape: [3], data_offsets: [0, 3] },
      a: { dtype: 'F32', shape: [1], data_offsets: [3, 7] },
    });
    expect(bytes.byteLength).toBe(8 + n + 7);
    const header = parseSafetensorsHeader(bytes, bytes.byteLength, 'mem');
    expect(header.tensors.map((t) => t.fileOffset)).toEqual([8 + n, 8 + n + 3]);
  });

  it('readAsFloat32 converts F16 and BF16 exactly, including specials', async () => {
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001, 0x7c00, 0xfc00, 0x7e00, 0x8000]);
    const bf16 = new Uint16Array([0x3f80, 0xc040, 0x3e80, 0x7f80, 0xff80, 0x7fc0, 0x0000, 0x4049]);
    const path = join(dir, 'half.safetensors');
    await writeSafetensors(path, {
      h: { dtype: 'F16', shape: [8], data: f16 },
      b: { dtype: 'BF16', shape: [2, 4], data: bf16 },
    });
    const file = await SafetensorsFile.open(path);
    expect(Array.from(await file.readAsFloat32('h'))).toEqual([
      1,
      -2,
      0.333251953125,
      2 ** -24,
      Infinity,
      -Infinity,
      NaN,
      -0,
    ]);
    expect(Array.from(await file.readAsFloat32('b'))).toEqual([1, -3, 0.25, Infinity, -Infinity, NaN, 0, 3.140625]);
    await file.close();
  });

  it('readInto fills the target and rejects a wrong-size one; reads after close fail', async () => {
    const path = await writeBytes(
      dir,
      'ri.safetensors',
      encodeSafetensors({ x: { dtype: 'I16', shape: [3], data: new Int16Array([1, -2, 3]) } }),
    );
    const file = await SafetensorsFile.open(path);
    const target = new Uint8Array(6);
    await file.readInto('x', target);
    expect(Array.from(new Int16Array(target.buffer))).toEqual([1, -2, 3]);
    await expect(file.readInto('x', new Uint8Array(4))).rejects.toThrow(/'x'.*target holds 4 bytes, the tensor 6/);
    await file.close();
    await file.close();
    await expect(file.read('x')).rejects.toThrow(/file is closed/);
  });

  it('encodes from any ArrayBufferView window, not its whole buffer', async () => {
    const backing = new Float32Array([9, 1, 2, 3, 9]);
    const bytes = encodeSafetensors({ w: { dtype: 'F32', shape: [3], data: backing.subarray(1, 4) } });
    const file = await SafetensorsFile.open(await writeBytes(dir, 'win.safetensors', bytes));
    expect(Array.from(await file.readAsFloat32('w'))).toEqual([1, 2, 3]);
    await file.close();
  });

  it('accepts data-section bytes no tensor covers, and zero-length tensors anywhere', () => {
    const header = {
      a: { dtype: 'U8', shape: [2], data_offsets: [4, 6] },
      z: { dtype: 'F32', shape: [0], data_offsets: [5, 5] },
    };
    const bytes = rawSafetensors(header, 10);
    const parsed = parseSafetensorsHeader(bytes, bytes.byteLength, 'gaps');
    expect(parsed.tensors.map((t) => t.name)).toEqual(['a', 'z']);
    expect(parsed.dataByteLength).toBe(10);
  });

  it('a SafetensorsCheckpoint opens a single file, or a folder holding model.safetensors', async () => {
    const bytes = encodeSafetensors(
      { q: { dtype: 'BF16', shape: [2], data: f32ArrayToBf16([1, 2]) } },
      { format: 'pt' },
    );
    await writeBytes(dir, 'model.safetensors', bytes);
    for (const target of [dir, join(dir, 'model.safetensors')]) {
      const ckpt = await SafetensorsCheckpoint.open(target);
      expect(ckpt.names()).toEqual(['q']);
      expect(ckpt.metadata).toEqual({ format: 'pt' });
      expect(Array.from(await ckpt.readAsFloat32('q'))).toEqual([1, 2]);
      await ckpt.close();
    }
  });

  it('reads one tensor from the end of a 1.5 GB (sparse) file without reading the rest', async () => {
    const big = 1_500_000_000;
    const header = rawSafetensors({
      big: { dtype: 'U8', shape: [big], data_offsets: [0, big] },
      tail: { dtype: 'F32', shape: [2], data_offsets: [big, big + 8] },
    });
    const path = join(dir, 'huge.safetensors');
    const handle = await open(path, 'w');
    await handle.write(header, 0, header.byteLength, 0);
    await handle.write(bytesOf(new Float32Array([6.5, -1])), 0, 8, header.byteLength + big);
    await handle.close();
    expect((await stat(path)).size).toBe(header.byteLength + big + 8);
    const started = performance.now();
    const file = await SafetensorsFile.open(path);
    expect(file.entry('big').byteLength).toBe(big);
    expect(Array.from(await file.readAsFloat32('tail'))).toEqual([6.5, -1]);
    await file.close();
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('rejects bad tensors given to the writer', async () => {
    expect(() => encodeSafetensors({ a: { dtype: 'F32', shape: [2, 3], data: new Float32Array(5) } })).toThrow(
      SafetensorsError,
    );
    expect(() => encodeSafetensors({ a: { dtype: 'F32', shape: [2, 3], data: new Float32Array(5) } })).toThrow(
      /tensor 'a': data holds 20 bytes but shape \[2, 3\] of F32 needs 24/,
    );
    expect(() =>
      encodeSafetensors({ a: { dtype: 'F8' as SafetensorsDType, shape: [1], data: new Uint8Array(1) } }),
    ).toThrow(/unknown dtype 'F8'/);
    expect(() => encodeSafetensors({ a: { dtype: 'U8', shape: [-1], data: new Uint8Array(1) } })).toThrow(
      /non-negative integers/,
    );
    expect(() => encodeSafetensors({ __metadata__: { dtype: 'U8', shape: [1], data: new Uint8Array(1) } })).toThrow(
      /reserved/,
    );
    await expect(writeSafetensors(join(dir, 'no', 'such', 'dir.safetensors'), {})).rejects.toBeInstanceOf(
      SafetensorsError,
    );
  });
});

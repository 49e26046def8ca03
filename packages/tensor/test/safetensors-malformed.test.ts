import { mkdir, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SafetensorsError } from '../src/errors.js';
import {
  SafetensorsCheckpoint,
  SafetensorsFile,
  encodeSafetensors,
  parseSafetensorsHeader,
} from '../src/safetensors/index.js';
import { makeTempDir, rawSafetensors, removeTempDir, writeBytes } from './safetensors-helpers.js';

let dir = '';
beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(async () => {
  await removeTempDir(dir);
});

/** Opening `bytes` written as model.safetensors must reject with a SafetensorsError matching `pattern`. */
async function expectRejected(bytes: Uint8Array, pattern: RegExp): Promise<void> {
  const path = await writeBytes(dir, 'model.safetensors', bytes);
  const opening = SafetensorsFile.open(path);
  await expect(opening).rejects.toBeInstanceOf(SafetensorsError);
  await expect(opening).rejects.toThrow(pattern);
  // The same bytes validated in memory fail the same way.
  expect(() => parseSafetensorsHeader(bytes, bytes.byteLength, path)).toThrow(pattern);
}

const w = (entry: object): object => ({ w: entry });
const f32x4 = { dtype: 'F32', shape: [4], data_offsets: [0, 16] };

const CASES: [string, Uint8Array, RegExp][] = [
  [
    'an empty file',
    new Uint8Array(0),
    /model\.safetensors: file is 0 bytes, too short to hold the 8-byte header length/,
  ],
  ['a file shorter than 8 bytes', new Uint8Array([2, 0, 0, 0, 0]), /file is 5 bytes, too short/],
  [
    'a header length past the end of the file',
    rawSafetensors('{}', 0, 100n),
    /header length 100 runs past the end of the file \(8 \+ 100 > 10 bytes\)/,
  ],
  [
    'an absurd header length (2^60)',
    rawSafetensors('{}', 0, 2n ** 60n),
    /header length 1152921504606846976 exceeds the limit of 100000000 bytes/,
  ],
  ['a header length of 0', rawSafetensors('{}', 0, 0n), /header length 0 is too small/],
  ['a header that is not JSON', rawSafetensors('{"w": {"dtype": "F32",'), /header is not valid JSON/],
  ['a header that is a JSON array', rawSafetensors('[1, 2]'), /header must be a JSON object, got an array/],
  ['a header that is JSON null', rawSafetensors('null  '), /header must be a JSON object, got null/],
  [
    'a header that is not valid UTF-8',
    rawSafetensors(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])),
    /header is not valid UTF-8/,
  ],
  [
    'an unknown dtype',
    rawSafetensors(w({ ...f32x4, dtype: 'F8_E4M3' }), 16),
    /tensor 'w': unknown dtype 'F8_E4M3' \(supported: F64, F32/,
  ],
  [
    'a dtype that is not a string',
    rawSafetensors(w({ ...f32x4, dtype: 4 }), 16),
    /tensor 'w': dtype must be a string, got number 4/,
  ],
  [
    'a negative dim',
    rawSafetensors(w({ ...f32x4, shape: [2, -2] }), 16),
    /tensor 'w': shape \[2, -2\] has dim 1 = -2, not a non-negative integer/,
  ],
  ['a fractional dim', rawSafetensors(w({ ...f32x4, shape: [1.5] }), 16), /tensor 'w': shape \[1.5\] has dim 0 = 1.5/],
  ['a string dim', rawSafetensors(w({ ...f32x4, shape: ['4'] }), 16), /tensor 'w': shape \["4"\] has dim 0 = "4"/],
  [
    'a shape that is not an array',
    rawSafetensors(w({ ...f32x4, shape: 4 }), 16),
    /tensor 'w': shape must be an array of non-negative integers, got number 4/,
  ],
  [
    'data_offsets past the data section',
    rawSafetensors(w({ ...f32x4, data_offsets: [8, 24] }), 16),
    /tensor 'w': data_offsets \[8, 24\] run past the end of the data section \(16 bytes\)/,
  ],
  [
    'data_offsets with begin > end',
    rawSafetensors(w({ ...f32x4, data_offsets: [16, 0] }), 16),
    /tensor 'w': data_offsets \[16, 0\] have begin > end/,
  ],
  [
    'data_offsets with one number',
    rawSafetensors(w({ ...f32x4, data_offsets: [0] }), 16),
    /tensor 'w': data_offsets must be two non-negative integers \[begin, end\], got \[0\]/,
  ],
  [
    'negative data_offsets',
    rawSafetensors(w({ ...f32x4, data_offsets: [-4, 12] }), 16),
    /tensor 'w': data_offsets must be two non-negative integers/,
  ],
  [
    'data_offsets beyond 2^53',
    rawSafetensors('{"w":{"dtype":"U8","shape":[0],"data_offsets":[18446744073709551615,18446744073709551615]}}'),
    /tensor 'w': data_offsets must be two non-negative integers/,
  ],
  ['missing data_offsets', rawSafetensors(w({ dtype: 'F32', shape: [4] }), 16), /tensor 'w': missing 'data_offsets'/],
  ['missing dtype', rawSafetensors(w({ shape: [4], data_offsets: [0, 16] }), 16), /tensor 'w': missing 'dtype'/],
  [
    'an unknown key in an entry',
    rawSafetensors(w({ ...f32x4, offsets: [0, 16] }), 16),
    /tensor 'w': unknown key 'offsets' in entry/,
  ],
  [
    'an entry that is not an object',
    rawSafetensors({ w: [0, 16] }),
    /tensor 'w': entry must be an object with dtype, shape and data_offsets, got an array/,
  ],
  [
    'a shape / byte count mismatch',
    rawSafetensors({ 'a.weight': { dtype: 'F32', shape: [2, 3], data_offsets: [0, 12] } }, 24),
    /model\.safetensors: tensor 'a\.weight': data_offsets \[0, 12\] hold 12 bytes but shape \[2, 3\] of F32 needs 24/,
  ],
  [
    'a shape whose byte count overflows',
    rawSafetensors(w({ dtype: 'BF16', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 16] }), 16),
    /hold 16 bytes but shape \[1099511627776, 1099511627776\] of BF16 needs 2417851639229258349412352/,
  ],
  [
    'overlapping tensors',
    rawSafetensors(
      {
        a: { dtype: 'U8', shape: [16], data_offsets: [0, 16] },
        b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] },
      },
      24,
    ),
    /tensor 'b': data_offsets \[8, 24\] overlap tensor 'a' at \[0, 16\]/,
  ],
  [
    'a metadata value that is not a string',
    rawSafetensors({ __metadata__: { format: 'pt', layers: 24 } }),
    /__metadata__ value for key 'layers' must be a string, got number 24/,
  ],
  [
    'metadata that is not an object',
    rawSafetensors({ __metadata__: ['pt'] }),
    /__metadata__ must be an object of strings, got an array/,
  ],
];

describe('bad input: safetensors files (rejected with a SafetensorsError naming the problem)', () => {
  it.each(CASES)('%s', async (_what, bytes, pattern) => {
    await expectRejected(bytes, pattern);
  });

  it('rejects header bytes handed to parseSafetensorsHeader that stop short of N', () => {
    const bytes = rawSafetensors(w(f32x4), 16);
    expect(() => parseSafetensorsHeader(bytes.subarray(0, 20), bytes.byteLength, 'x.safetensors')).toThrow(
      SafetensorsError,
    );
    expect(() => parseSafetensorsHeader(bytes.subarray(0, 20), bytes.byteLength, 'x.safetensors')).toThrow(
      /only 20 bytes given/,
    );
  });

  it('raises, never returns garbage, when the file is truncated after its header was validated', async () => {
    const path = await writeBytes(
      dir,
      'cut.safetensors',
      encodeSafetensors({
        head: { dtype: 'U8', shape: [4], data: new Uint8Array([1, 2, 3, 4]) },
        tail: { dtype: 'F32', shape: [64], data: new Float32Array(64).fill(1) },
      }),
    );
    const file = await SafetensorsFile.open(path);
    await truncate(path, file.entry('tail').fileOffset + 100);
    expect(Array.from(await file.read('head'))).toEqual([1, 2, 3, 4]);
    await expect(file.read('tail')).rejects.toBeInstanceOf(SafetensorsError);
    await expect(file.read('tail')).rejects.toThrow(
      /cut\.safetensors: tensor 'tail': file is truncated: expected 256 bytes at offset \d+, the file ends after 100/,
    );
    await expect(file.readAsFloat32('tail')).rejects.toThrow(/file is truncated/);
    await expect(file.readInto('tail', new Uint8Array(256))).rejects.toThrow(/file is truncated/);
    await file.close();
    // Reopened, the shortened file no longer passes validation at all.
    await expect(SafetensorsFile.open(path)).rejects.toThrow(
      /tensor 'tail': data_offsets \[4, 260\] run past the end of the data section \(104 bytes\)/,
    );
  });

  it('names a tensor that does not exist', async () => {
    const path = await writeBytes(
      dir,
      'one.safetensors',
      encodeSafetensors({ a: { dtype: 'U8', shape: [1], data: new Uint8Array(1) } }),
    );
    const file = await SafetensorsFile.open(path);
    expect(file.has('nope')).toBe(false);
    expect(() => file.entry('nope')).toThrow(SafetensorsError);
    expect(() => file.entry('nope')).toThrow(/one\.safetensors: tensor 'nope': no such tensor in this file/);
    await expect(file.read('nope')).rejects.toBeInstanceOf(SafetensorsError);
    await expect(file.readAsFloat32('nope')).rejects.toThrow(/tensor 'nope': no such tensor/);
    await file.close();
    const ckpt = await SafetensorsCheckpoint.open(path);
    await expect(ckpt.read('nope')).rejects.toBeInstanceOf(SafetensorsError);
    await expect(ckpt.read('nope')).rejects.toThrow(/tensor 'nope': no such tensor in this checkpoint/);
    await ckpt.close();
  });

  it('rejects a path that does not exist or is not a file', async () => {
    await expect(SafetensorsFile.open(join(dir, 'absent.safetensors'))).rejects.toBeInstanceOf(SafetensorsError);
    await expect(SafetensorsFile.open(join(dir, 'absent.safetensors'))).rejects.toThrow(
      /absent\.safetensors: no such file or folder/,
    );
    await mkdir(join(dir, 'sub'));
    await expect(SafetensorsFile.open(join(dir, 'sub'))).rejects.toThrow(/sub: is a folder, not a safetensors file/);
    await expect(SafetensorsCheckpoint.open(join(dir, 'sub'))).rejects.toThrow(
      /folder holds neither model\.safetensors nor model\.safetensors\.index\.json/,
    );
    await expect(SafetensorsCheckpoint.open(join(dir, 'gone'))).rejects.toThrow(/gone: no such file or folder/);
  });
});

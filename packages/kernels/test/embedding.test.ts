import { f16ArrayToF32, Int4Weight, Int8Weight, ShapeError, Tensor, type Device } from '@fastvlm/tensor';
import { describe, expect, it } from 'vitest';
import { checkTokenIds, embedding } from '../src/embedding.js';
import type { Weight } from '../src/weight.js';
import { expectClose, paritySuite } from './fixtures.js';
import { TOLERANCE } from './tolerances.js';

type TableDType = 'f32' | 'f16' | 'bf16' | 'int8';
const BYTES: Record<TableDType, number> = { f32: 4, f16: 2, bf16: 2, int8: 1 };

function uploadTable(
  device: Device,
  data: Float32Array,
  shape: [number, number],
  dtype: TableDType,
  maxBlockBytes?: number,
): Weight {
  const options = maxBlockBytes === undefined ? {} : { maxBlockBytes };
  switch (dtype) {
    case 'int8':
      return Int8Weight.quantize(device, data, shape, options);
    case 'f32':
      return Tensor.fromArray(device, data, shape, 'f32', options);
    case 'f16':
      return Tensor.fromArray(device, data, shape, 'f16', options);
    case 'bf16':
      return Tensor.fromArray(device, data, shape, 'bf16', options);
  }
}

function blockCount(table: Weight): number {
  return (table instanceof Int8Weight || table instanceof Int4Weight ? table.values : table).blocks().length;
}

describe('embedding vs PyTorch', async () => {
  const suite = await paritySuite('llm_plumbing');
  const { fixture } = suite;

  async function readIds(caseName: string): Promise<Int32Array> {
    const raw = await fixture.raw(caseName, 'ids');
    return new Int32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  }

  for (const c of fixture.cases((x) => x.op === 'embedding')) {
    for (const dtype of ['f32', 'f16', 'bf16', 'int8'] as const) {
      for (const split of [false, true]) {
        it(`${c.name} ${dtype}${split ? ' split into row blocks' : ''}`, async () => {
          const { data, shape } = await fixture.get(c.name, 'table');
          const [vocab, dim] = shape;
          // The odd int8 table splits its scales too, at other rows than its values.
          const maxBlockBytes = !split
            ? undefined
            : dtype === 'int8' && c.name.endsWith('odd')
              ? 1024
              : Math.ceil((vocab * dim * BYTES[dtype]) / 3);
          const expected = await fixture.get(c.name, `y_${dtype}`);
          const ids = await readIds(c.name);
          const out = await suite.device.scopeAsync(async () => {
            const table = uploadTable(suite.device, data, [vocab, dim], dtype, maxBlockBytes);
            expect(blockCount(table) > 1).toBe(split);
            const before = suite.device.stats.dispatches;
            const y = embedding(Tensor.fromArray(suite.device, ids, [ids.length], 'i32'), table);
            if (dtype !== 'int8') expect(suite.device.stats.dispatches - before).toBe(blockCount(table)); // one dispatch per row block
            return y.read();
          });
          const { maxAbs } = expectClose(out, expected.data, TOLERANCE.exactCopy, `${c.name} ${dtype}`);
          expect(maxAbs).toBe(0);
        });
      }
    }
  }

  it('writes zero rows for ids outside the vocabulary, split or not', async () => {
    const [vocab, dim] = [50, 12];
    const data = Float32Array.from({ length: vocab * dim }, (_, i) => 1 + (i % 97));
    const ids = Int32Array.from([-1, 5, vocab, -200, 2147483647, 49, -2147483648]);
    for (const dtype of ['f32', 'f16', 'int8'] as const) {
      for (const maxBlockBytes of [undefined, 200]) {
        const out = await suite.device.scopeAsync(async () => {
          const table = uploadTable(suite.device, data, [vocab, dim], dtype, maxBlockBytes);
          // Poison the output's pooled buffer first: zero rows must be written, not left over.
          Tensor.fromArray(
            suite.device,
            new Float32Array(ids.length * dim).fill(NaN),
            [ids.length, dim],
            'f32',
          ).dispose();
          return embedding(Tensor.fromArray(suite.device, ids, [ids.length], 'i32'), table).read();
        });
        for (let t = 0; t < ids.length; t++) {
          const row = out.subarray(t * dim, (t + 1) * dim);
          const valid = ids[t] >= 0 && ids[t] < vocab;
          expect(
            row.every((v) => (valid ? v !== 0 : v === 0)),
            `${dtype} ${maxBlockBytes} id ${ids[t]}`,
          ).toBe(true);
        }
      }
    }
    expect(() => checkTokenIds(ids, vocab)).toThrow(ShapeError);
    expect(() => checkTokenIds(ids, vocab)).toThrow(/token id -1 at position 0/);
    expect(() => checkTokenIds(Int32Array.from([0, 5, 49]), vocab)).not.toThrow();
  });

  it('gathers from the real 151936 x 896 f16 table (3 row blocks)', async () => {
    const [vocab, dim] = [151936, 896];
    // Random f16 bits with the top exponent bit cleared: finite values in (-2, 2), subnormals included.
    const words = new Uint32Array((vocab * dim) / 2);
    let state = 0x2545f491;
    for (let i = 0; i < words.length; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      words[i] = state & 0xbfffbfff;
    }
    const bits = new Uint16Array(words.buffer);
    const prompt = [
      151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198, 198, 74785, 279, 2168, 13,
      151645, 198, 151644, 77091, 198,
    ];
    const ids = Int32Array.from([...prompt, 0, 74897, 74898, 149795, 149796, 151935, -200, 151936]);
    const out = await suite.device.scopeAsync(async () => {
      // blocks of at most 128 MiB (WebGPU's default binding limit, lavapipe's too), whatever the adapter's limit
      const table = Tensor.fromArray(suite.device, bits, [vocab, dim], 'f16', { maxBlockBytes: 128 * 1024 * 1024 });
      expect(table.blocks().map((b) => b.rowStart)).toEqual([0, 74898, 149796]);
      return embedding(Tensor.fromArray(suite.device, ids, [ids.length], 'i32'), table).read();
    });
    const expected = new Float32Array(ids.length * dim);
    ids.forEach((id, t) => {
      if (id >= 0 && id < vocab) expected.set(f16ArrayToF32(bits.subarray(id * dim, (id + 1) * dim)), t * dim);
    });
    expectClose(out, expected, TOLERANCE.exactCopy, 'real f16 table');
  }, 60_000);

  it('rejects bad inputs with a ShapeError', () => {
    suite.device.scope(() => {
      const table = Tensor.zeros(suite.device, [10, 4], 'f32');
      const ids = Tensor.fromArray(suite.device, [1, 2], [2], 'i32');
      expect(() => embedding(Tensor.zeros(suite.device, [2], 'f32') as unknown as Tensor<'i32'>, table)).toThrow(
        ShapeError,
      );
      expect(() => embedding(Tensor.zeros(suite.device, [1, 2], 'i32'), table)).toThrow(/ids must be an i32 vector/);
      expect(() => embedding(ids, Tensor.zeros(suite.device, [40], 'f32'))).toThrow(/table must be \[V, D\]/);
      expect(() => embedding(ids, Tensor.zeros(suite.device, [10, 4], 'i32') as unknown as Weight)).toThrow(
        /not f32, f16, bf16 or int8/,
      );
      const int4 = Int4Weight.quantize(suite.device, new Float32Array(10 * 8), [10, 8], { groupSize: 8 });
      expect(() => embedding(ids, int4)).toThrow(ShapeError);
      expect(() => embedding(ids, int4)).toThrow(/an int4 table cannot be gathered; hold the embedding in int8/);
    });
  });
});

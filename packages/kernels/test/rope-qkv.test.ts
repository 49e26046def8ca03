import { ShapeError, Tensor } from '@fastvlm/tensor';
import { describe, expect, it } from 'vitest';
import { appendKv, KvCache } from '../src/kv-cache.js';
import { rope } from '../src/rope.js';
import { ropeQkvIntoCache } from '../src/rope-qkv.js';
import { deviceSuite, expectClose, paritySuite } from './fixtures.js';
import { TOLERANCE } from './tolerances.js';

/**
 * Against transformers' Qwen2RotaryEmbedding + apply_rotary_pos_emb (the rope fixtures of
 * tools/python/kernel_cases/norms.py): q and k of each contiguous case stacked with a v into one
 * qkv row per token; q comes back rotated, k rotated and v as it is land in the cache.
 */
describe("ropeQkvIntoCache vs transformers' rotary embedding", async () => {
  const suite = await paritySuite('norms');
  const { fixture } = suite;

  for (const c of fixture.cases((c) => c.op === 'rope' && c.contiguous === true)) {
    it(c.name, async () => {
      const [q, k, qOut, kOut] = await Promise.all(
        ['q', 'k', 'q_out', 'k_out'].map((role) => fixture.get(c.name, role)),
      );
      const [T, heads, headDim] = q.shape;
      const kvHeads = k.shape[1];
      const start = c.start as number;
      const v = Float32Array.from({ length: T * kvHeads * headDim }, (_, i) => Math.cos(i * 0.71));
      const qkv = new Float32Array(T * (heads + 2 * kvHeads) * headDim);
      for (let t = 0; t < T; t++) {
        let at = t * (heads + 2 * kvHeads) * headDim;
        for (const [data, n] of [
          [q.data, heads],
          [k.data, kvHeads],
          [v, kvHeads],
        ] as const) {
          qkv.set(data.subarray(t * n * headDim, (t + 1) * n * headDim), at);
          at += n * headDim;
        }
      }
      const cache = new KvCache(suite.device, { layers: 1, kvHeads, maxSeq: start + T, headDim });
      try {
        cache.length = start; // positions before start stand for an earlier prompt
        const out = suite.device.scope(() =>
          ropeQkvIntoCache(
            Tensor.fromArray(suite.device, qkv, [T, qkv.length / T], 'f32'),
            heads,
            cache,
            0,
            start,
            c.theta as number,
          ).keep(),
        );
        expectClose(await out.read(), qOut.data, TOLERANCE.rope, `${c.name} q`);
        out.dispose();
        // the cache is [kvHeads, maxSeq, d]: positions start .. start+T-1 of each head, as [T, kvHeads, d]
        const [keys, values] = [await cache.keys[0].read(), await cache.values[0].read()];
        const written = (all: Float32Array): Float32Array => {
          const rows = new Float32Array(T * kvHeads * headDim);
          for (let t = 0; t < T; t++) {
            for (let h = 0; h < kvHeads; h++)
              rows.set(
                all.subarray((h * (start + T) + start + t) * headDim, (h * (start + T) + start + t + 1) * headDim),
                (t * kvHeads + h) * headDim,
              );
          }
          return rows;
        };
        expectClose(written(keys), kOut.data, TOLERANCE.rope, `${c.name} k in the cache`);
        expectClose(written(values), v, TOLERANCE.exactCopy, `${c.name} v in the cache`);
      } finally {
        cache.dispose();
      }
    });
  }
});

/**
 * ropeQkvIntoCache must give bit for bit what `rope` (checked against PyTorch in rope.test.ts) and
 * `appendKv` give on the q, k and v slices of the stacked projection: the same q, the same cache.
 */
describe('ropeQkvIntoCache', () => {
  const suite = deviceSuite();

  const values = (n: number, seed: number): Float32Array =>
    Float32Array.from({ length: n }, (_, i) => Math.sin(seed + i * 0.37) * 3);

  /** The columns [from, from + width) of a row-major [T, cols] matrix. */
  function columns(data: Float32Array, T: number, cols: number, from: number, width: number): Float32Array {
    const out = new Float32Array(T * width);
    for (let t = 0; t < T; t++) out.set(data.subarray(t * cols + from, t * cols + from + width), t * width);
    return out;
  }

  // [heads, kvHeads, headDim, theta]: Qwen2-0.5B's (vec4 path) and an odd pair count (scalar path)
  const SHAPES: [number, number, number, number][] = [
    [14, 2, 64, 1e6],
    [3, 1, 12, 1e4],
  ];
  for (const [heads, kvHeads, headDim, theta] of SHAPES) {
    it(`equals rope + appendKv for ${heads} + 2 x ${kvHeads} heads of ${headDim}: a prompt, then decode steps`, async () => {
      const cols = (heads + 2 * kvHeads) * headDim;
      const options = { layers: 2, kvHeads, maxSeq: 12, headDim };
      const fused = new KvCache(suite.device, options);
      const separate = new KvCache(suite.device, options);
      try {
        for (const [start, T] of [
          [0, 5],
          [5, 1],
          [6, 1],
          [7, 3],
        ]) {
          const data = values(T * cols, start);
          const [q, qRef] = suite.device.scope(() => {
            const qkv = Tensor.fromArray(suite.device, data, [T, cols], 'f32');
            const q = ropeQkvIntoCache(qkv, heads, fused, 1, start, theta);
            const part = (from: number, n: number): Tensor<'f32'> =>
              Tensor.fromArray(
                suite.device,
                columns(data, T, cols, from * headDim, n * headDim),
                [T, n, headDim],
                'f32',
              );
            const qRef = rope(part(0, heads), start, theta);
            appendKv(separate, 1, rope(part(heads, kvHeads), start, theta), part(heads + kvHeads, kvHeads), start);
            return [q.keep(), qRef.keep()];
          });
          expect(q.shape).toEqual([T, heads, headDim]);
          expect(Array.from(await q.read()), `q at ${start}`).toEqual(Array.from(await qRef.read()));
          expect(fused.length).toBe(start + T);
          q.dispose();
          qRef.dispose();
        }
        expect(Array.from(await fused.keys[1].read()), 'keys').toEqual(Array.from(await separate.keys[1].read()));
        expect(Array.from(await fused.values[1].read()), 'values').toEqual(Array.from(await separate.values[1].read()));
      } finally {
        fused.dispose();
        separate.dispose();
      }
    });
  }

  it('rejects bad inputs with a ShapeError naming what is wrong', () => {
    const cache = new KvCache(suite.device, { layers: 1, kvHeads: 2, maxSeq: 8, headDim: 4 });
    try {
      suite.device.scope(() => {
        const qkv = (T: number, cols = 24): Tensor<'f32'> => Tensor.zeros(suite.device, [T, cols], 'f32');
        expect(() => ropeQkvIntoCache(qkv(2, 20), 4, cache, 0, 0, 1e4)).toThrow(/qkv must be f32 \[T, 32\]/);
        expect(() => ropeQkvIntoCache(qkv(2, 32), 4, cache, 0, 0, 1e4)).not.toThrow();
        expect(() => ropeQkvIntoCache(qkv(2, 32), 4, cache, 0, 5, 1e4)).toThrow(/start 5 must be within 0..2/);
        expect(() => ropeQkvIntoCache(qkv(9, 32), 4, cache, 0, 0, 1e4)).toThrow(/runs past the cache's maxSeq 8/);
        expect(() => ropeQkvIntoCache(qkv(1, 32), 4, cache, 1, 0, 1e4)).toThrow(/layer 1 is outside/);
        expect(() => ropeQkvIntoCache(qkv(1, 32), 0, cache, 0, 0, 1e4)).toThrow(ShapeError);
        expect(() =>
          ropeQkvIntoCache(Tensor.zeros(suite.device, [1, 32], 'i32') as unknown as Tensor<'f32'>, 4, cache, 0, 0, 1e4),
        ).toThrow(/qkv must be f32/);
      });
    } finally {
      cache.dispose();
    }
  });
});

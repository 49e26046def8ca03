import { ShapeError, Tensor } from '@fastvlm/tensor';
import { describe, expect, it } from 'vitest';
import { causalAttention, causalTeamsFit, type CausalAttentionPath } from '../src/causal-attention.js';
import { appendKv, KvCache } from '../src/kv-cache.js';
import { expectClose, paritySuite, type FixtureCase } from './fixtures.js';
import { TOLERANCE } from './tolerances.js';

interface LlmCase extends FixtureCase {
  heads: number;
  kv_heads: number;
  head_dim: number;
  /** [start, T] chunks: append k/v rows start..start+T-1, attend q rows start..start+T-1. */
  steps: [number, number][];
}

const LAYER = 1; // layer 0 stays unwritten: a kernel reading the wrong layer fails the comparison

describe('KV cache and causal GQA attention vs PyTorch (and transformers Qwen2 math)', async () => {
  const suite = await paritySuite('attention');
  const { fixture } = suite;

  /** Rows [start, start + count) of a fixture tensor whose first dimension is positions. */
  function rows(data: Float32Array, shape: number[], start: number, count: number): Tensor<'f32'> {
    const width = shape.slice(1).reduce((a, b) => a * b, 1);
    return Tensor.fromArray(
      suite.device,
      data.subarray(start * width, (start + count) * width),
      [count, ...shape.slice(1)],
      'f32',
    );
  }

  async function run(c: LlmCase, path?: CausalAttentionPath): Promise<void> {
    const [q, k, v, expected] = await Promise.all(['q', 'k', 'v', 'y'].map((role) => fixture.get(c.name, role)));
    const positions = q.shape[0];
    const cache = new KvCache(suite.device, {
      layers: 2,
      kvHeads: c.kv_heads,
      maxSeq: positions + 3,
      headDim: c.head_dim,
    });
    const width = c.heads * c.head_dim;
    for (const [start, count] of c.steps) {
      const y = suite.device.scope(() => {
        appendKv(cache, LAYER, rows(k.data, k.shape, start, count), rows(v.data, v.shape, start, count), start);
        return causalAttention(rows(q.data, q.shape, start, count), cache, LAYER, {
          start,
          kvLength: start + count,
          path,
        }).keep();
      });
      expect(cache.length).toBe(start + count);
      expect(y.shape).toEqual([count, width]);
      const what = `${c.name} ${path ?? 'auto'} rows ${start}..${start + count - 1}`;
      const { maxAbs } = expectClose(
        await y.read(),
        expected.data.subarray(start * width, (start + count) * width),
        TOLERANCE.attention,
        what,
      );
      console.log(`${what}: max abs error ${maxAbs.toExponential(2)}`);
      y.dispose();
    }
    cache.dispose();
  }

  const cases = fixture.cases((c) => c.op === 'causal') as LlmCase[];
  for (const c of cases) {
    it(`${c.name}: ${c.heads}/${c.kv_heads} heads, hd ${c.head_dim}, steps ${JSON.stringify(c.steps)}`, () => run(c));
  }
  // Each kernel on steps that T would send elsewhere: team on decode and short chunks, split on
  // prefill, and the portable plain kernel (used without subgroups).
  const forced: [string, CausalAttentionPath][] = [
    ['llm.odd_chunks', 'team'],
    ['llm.odd_chunks', 'plain'],
    ['llm.multiturn', 'split'],
    ['llm.hd128', 'split'],
  ];
  // Where subgroups cannot hold teams of 8 lanes (SwiftShader's are 4 wide; a compatibility-mode
  // adapter has none), the team and split kernels refuse with a ShapeError instead of running.
  for (const [name, path] of forced) {
    const c = fixture.case(name) as LlmCase;
    const where = path === 'plain' ? '' : ' (a ShapeError where subgroups cannot hold teams)';
    it(`${c.name} through the ${path} kernel${where}`, async () => {
      if (path === 'plain' || causalTeamsFit(suite.device, c.head_dim)) return run(c, path);
      await expect(run(c, path)).rejects.toThrow(/needs subgroups/);
    });
  }

  it('appendKv writes in place at [kvHeads, maxSeq, hd] positions start.. and a decode loop compiles nothing new', async () => {
    const cache = new KvCache(suite.device, { layers: 1, kvHeads: 2, maxSeq: 6, headDim: 4 });
    const keysBefore = cache.keys[0];
    const value = (t: number, h: number, d: number): number => 100 * t + 10 * h + d;
    const chunk = (start: number, count: number): number[] =>
      Array.from({ length: count * 2 * 4 }, (_, i) => value(start + Math.floor(i / 8), Math.floor(i / 4) % 2, i % 4));
    suite.device.scope(() => {
      appendKv(
        cache,
        0,
        Tensor.fromArray(suite.device, chunk(0, 3), [3, 2, 4], 'f32'),
        Tensor.fromArray(suite.device, chunk(0, 3), [3, 2, 4], 'f32'),
        0,
      );
      const q = Tensor.zeros(suite.device, [1, 2, 4], 'f32');
      for (let position = 3; position < 5; position++) {
        const compiled = suite.device.kernels.compiled;
        appendKv(
          cache,
          0,
          Tensor.fromArray(suite.device, chunk(position, 1), [1, 2, 4], 'f32'),
          Tensor.fromArray(suite.device, chunk(position, 1), [1, 2, 4], 'f32'),
          position,
        );
        causalAttention(q, cache, 0, { start: position, kvLength: position + 1 });
        if (position > 3) expect(suite.device.kernels.compiled).toBe(compiled);
      }
    });
    expect(cache.keys[0]).toBe(keysBefore);
    expect(cache.length).toBe(5);
    const keys = await cache.keys[0].read(); // test only: the model never reads the cache back
    for (let h = 0; h < 2; h++) {
      for (let t = 0; t < 5; t++) for (let d = 0; d < 4; d++) expect(keys[(h * 6 + t) * 4 + d]).toBe(value(t, h, d));
    }
    cache.dispose();
  });

  it('rejects bad shapes, positions and layers with a ShapeError', () => {
    const cache = new KvCache(suite.device, { layers: 2, kvHeads: 2, maxSeq: 8, headDim: 64 });
    suite.device.scope(() => {
      const kv = (t: number, heads = 2, hd = 64): Tensor<'f32'> => Tensor.zeros(suite.device, [t, heads, hd], 'f32');
      expect(() => appendKv(cache, 0, kv(9), kv(9), 0)).toThrow(/runs past the cache's maxSeq 8/);
      expect(() => appendKv(cache, 0, kv(2), kv(2), 1)).toThrow(/start 1 must be within 0..0/);
      expect(() => appendKv(cache, 0, kv(2, 3), kv(2, 3), 0)).toThrow(ShapeError);
      expect(() => appendKv(cache, 0, kv(2), kv(3), 0)).toThrow(/differ in T/);
      expect(() => appendKv(cache, 2, kv(2), kv(2), 0)).toThrow(/layer 2 is outside/);
      expect(() =>
        appendKv(cache, 0, Tensor.zeros(suite.device, [2, 2, 64], 'f16') as unknown as Tensor<'f32'>, kv(2), 0),
      ).toThrow(/must be f32/);
      appendKv(cache, 0, kv(6), kv(6), 0);
      expect(() => appendKv(cache, 0, kv(3), kv(3), 6)).toThrow(ShapeError);
      expect(() => causalAttention(kv(2, 14), cache, 0, { start: 5, kvLength: 7 })).toThrow(
        /do not fit the 6 positions/,
      );
      expect(() => causalAttention(kv(2, 14), cache, 0, { start: 5, kvLength: 6 })).toThrow(ShapeError);
      expect(() => causalAttention(kv(2, 14, 32), cache, 0, { start: 4, kvLength: 6 })).toThrow(/not \[T, heads, 64\]/);
      expect(() => causalAttention(kv(2, 7), cache, 0, { start: 4, kvLength: 6 })).toThrow(
        /multiple of the cache's 2 KV heads/,
      );
      expect(() =>
        causalAttention(Tensor.zeros(suite.device, [2, 14, 64], 'f16') as unknown as Tensor<'f32'>, cache, 0, {
          start: 4,
          kvLength: 6,
        }),
      ).toThrow(/must be f32/);
    });
    // one position more than the adapter's binding limit holds (128 MiB on lavapipe, 1 GiB on SwiftShader)
    const overLimit = Math.floor(suite.device.limits.maxStorageBufferBindingSize / (2 * 64 * 4)) + 1;
    expect(() => new KvCache(suite.device, { layers: 1, kvHeads: 2, maxSeq: overLimit, headDim: 64 })).toThrow(
      /binding limit/,
    );
    expect(() => new KvCache(suite.device, { layers: 1, kvHeads: 2, maxSeq: 0, headDim: 64 })).toThrow(
      /maxSeq must be a positive integer/,
    );
    cache.dispose();
  });
});

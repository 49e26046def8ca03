import { ShapeError, Tensor } from '@fastvlm/tensor';
import { describe, expect, it } from 'vitest';
import {
  VISION_ATTENTION_TILINGS,
  visionAttention,
  visionAttentionTiling,
  type VisionAttentionTiling,
} from '../src/vision-attention.js';
import { expectClose, paritySuite } from './fixtures.js';
import { TOLERANCE } from './tolerances.js';

describe('visionAttention vs PyTorch scaled_dot_product_attention', async () => {
  const suite = await paritySuite('attention');
  const { fixture } = suite;

  async function check(caseName: string, heads: number, tiling?: VisionAttentionTiling): Promise<void> {
    const qkv = await fixture.get(caseName, 'qkv');
    const expected = await fixture.get(caseName, 'y');
    const y = suite.device.scope(() =>
      visionAttention(Tensor.fromArray(suite.device, qkv.data, qkv.shape, 'f32'), heads, tiling).keep(),
    );
    expect(y.shape).toEqual(expected.shape);
    const { maxAbs } = expectClose(await y.read(), expected.data, TOLERANCE.attention, caseName);
    console.log(
      `${caseName} ${JSON.stringify(tiling ?? visionAttentionTiling(suite.device))}: max abs error ${maxAbs.toExponential(2)}`,
    );
    y.dispose();
  }

  const cases = fixture.cases((c) => c.op === 'vision');
  for (const c of cases) {
    it(`${c.name} (${c.heads as number} heads)`, () => check(c.name, c.heads as number));
  }
  // The path without subgroups (portable fallback), on the small cases.
  for (const c of ['vision.odd', 'vision.peaky'].map((name) => fixture.case(name))) {
    it(`${c.name} without subgroups`, () => check(c.name, c.heads as number, VISION_ATTENTION_TILINGS.plain));
  }

  it('rejects a wrong width, rank or dtype with a ShapeError', () => {
    suite.device.scope(() => {
      expect(() => visionAttention(Tensor.zeros(suite.device, [16, 3 * 96], 'f32'), 4)).toThrow(ShapeError);
      expect(() => visionAttention(Tensor.zeros(suite.device, [16, 3 * 96], 'f32'), 4)).toThrow(
        /not \[N, 3 \* heads \* 32\]/,
      );
      expect(() => visionAttention(Tensor.zeros(suite.device, [2, 16, 3 * 96], 'f32'), 3)).toThrow(ShapeError);
      expect(() =>
        visionAttention(Tensor.zeros(suite.device, [16, 3 * 96], 'f16') as unknown as Tensor<'f32'>, 3),
      ).toThrow(/must be f32/);
    });
  });
});

import { createDevice, ShapeError, Tensor, type Device } from '@fastvlm/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  VISION_ATTENTION_TILINGS,
  visionAttention,
  visionAttentionTiling,
  type VisionAttentionTiling,
} from '../src/vision-attention.js';
import { expectClose, openFixture, type Fixture } from './fixtures.js';
import { TOLERANCE } from './tolerances.js';

describe('visionAttention vs PyTorch scaled_dot_product_attention', async () => {
  let device: Device;
  const fixture: Fixture = await openFixture('attention');
  beforeAll(async () => {
    device = await createDevice();
  });
  afterAll(async () => {
    device.destroy();
    await fixture.close();
  });

  async function check(caseName: string, heads: number, tiling?: VisionAttentionTiling): Promise<void> {
    const qkv = await fixture.get(caseName, 'qkv');
    const expected = await fixture.get(caseName, 'y');
    const y = device.scope(() =>
      visionAttention(Tensor.fromArray(device, qkv.data, qkv.shape, 'f32'), heads, tiling).keep(),
    );
    expect(y.shape).toEqual(expected.shape);
    const { maxAbs } = expectClose(await y.read(), expected.data, TOLERANCE.attention, caseName);
    console.log(
      `${caseName} ${JSON.stringify(tiling ?? visionAttentionTiling(device))}: max abs error ${maxAbs.toExponential(2)}`,
    );
    y.dispose();
  }

  const cases = fixture.cases.filter((c) => c.op === 'vision');
  for (const c of cases) {
    it(`${c.name} (${c.heads as number} heads)`, () => check(c.name, c.heads as number));
  }
  // The path without subgroups (portable fallback), on the small cases.
  for (const c of cases.filter((c) => ['vision.odd', 'vision.peaky'].includes(c.name))) {
    it(`${c.name} without subgroups`, () => check(c.name, c.heads as number, VISION_ATTENTION_TILINGS.plain));
  }

  it('rejects a wrong width, rank or dtype with a ShapeError', () => {
    device.scope(() => {
      expect(() => visionAttention(Tensor.zeros(device, [16, 3 * 96], 'f32'), 4)).toThrow(ShapeError);
      expect(() => visionAttention(Tensor.zeros(device, [16, 3 * 96], 'f32'), 4)).toThrow(
        /not \[N, 3 \* heads \* 32\]/,
      );
      expect(() => visionAttention(Tensor.zeros(device, [2, 16, 3 * 96], 'f32'), 3)).toThrow(ShapeError);
      expect(() => visionAttention(Tensor.zeros(device, [16, 3 * 96], 'f16') as unknown as Tensor<'f32'>, 3)).toThrow(
        /must be f32/,
      );
    });
  });
});

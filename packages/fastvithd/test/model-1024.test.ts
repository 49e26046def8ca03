import { createDevice, type Device } from '@fastvlm/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkStages,
  disposeResult,
  encodeFixture,
  expectStageClose,
  loadFixtureTower,
  openForward,
  type ForwardFixture,
} from './model-fixtures.js';
import { TOLERANCE } from './tolerances.js';

const SIZE = 1024; // the real tower: 256 image tokens

describe(`FastViTHD at ${SIZE} px (FastVLM-0.5B's size) vs PyTorch`, () => {
  let device: Device;
  let fixture: ForwardFixture;
  const report: string[] = [];
  beforeAll(async () => {
    device = await createDevice();
    fixture = await openForward(SIZE);
  });
  afterAll(async () => {
    console.log(`FastViTHD max abs error / max |ref| per stage (PyTorch f32's own in brackets):\n${report.join('\n')}`);
    await fixture?.close();
    device?.destroy();
  });

  it('f32 weights: every stage and the features', { timeout: 400_000 }, async () => {
    const tower = await loadFixtureTower(device, 'f32', SIZE);
    const result = await encodeFixture(device, tower, fixture);
    report.push(
      `  ${SIZE} px, f32 weights (${result.seconds.toFixed(1)} s): ${await checkStages(result, fixture, 'f32')}`,
    );
    disposeResult(result);
    tower.dispose();
  });

  it('f16 weights: the features; the drift from the f32 weights is stated', { timeout: 400_000 }, async () => {
    const tower = await loadFixtureTower(device, 'f16', SIZE);
    const result = await encodeFixture(device, tower, fixture);
    report.push(
      `  ${SIZE} px, f16 weights (${result.seconds.toFixed(1)} s): ${await checkStages(result, fixture, 'f16')}`,
    );
    const drift = expectStageClose(
      await result.features.read(),
      (await fixture.get('f32.features')).data,
      TOLERANCE.f16WeightsVsF32,
      'f16 weights vs f32 reference',
    );
    expect(drift.relativeToMax).toBeGreaterThan(TOLERANCE.tower.relativeToMax);
    report.push(
      `  ${SIZE} px, f16 weights vs the f32 weights' reference: features ${drift.relativeToMax.toExponential(1)}`,
    );
    disposeResult(result);
    tower.dispose();
  });
});

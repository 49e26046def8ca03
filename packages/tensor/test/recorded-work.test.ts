/** Device.beginRecording / replay and StepUniforms (recorded-work.ts) on a one-kernel "step". */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDevice,
  DeviceError,
  recordedUniforms,
  sameStructure,
  StepUniforms,
  Tensor,
  type Device,
  type RecordedWork,
} from '../src/index.js';

/** out[i] = x[i] * p.scale + f32(p.step): a step whose uniform holds a u32 that advances and an f32 that does not. */
const STEP = /* wgsl */ `
struct Params { step: u32, scale: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x < arrayLength(&out)) { out[id.x] = x[id.x] * p.scale + f32(p.step); }
}`;

function params(step: number, scale = 0.5): Uint32Array {
  const data = new Uint32Array([step, 0]);
  new Float32Array(data.buffer, 4, 1)[0] = scale;
  return data;
}

describe('recorded work', () => {
  let device: Device;
  let x: Tensor<'f32'>;
  let out: Tensor<'f32'>;
  beforeAll(async () => {
    device = await createDevice();
    x = Tensor.fromArray(device, [2, 4, 6], [3], 'f32').keep();
    out = Tensor.empty(device, [3], 'f32').keep();
  });
  afterAll(() => {
    x?.dispose();
    out?.dispose();
    device?.destroy();
  });

  /** Step `k` recorded through `dispatch`: two dispatches with a submit between. */
  function recordStep(k: number, workgroups = 1): RecordedWork {
    device.beginRecording();
    const kernel = device.kernel(STEP, 'step');
    device.dispatch(kernel, [x, out, { uniform: params(k) }], [workgroups]);
    device.submit();
    device.dispatch(kernel, [x, out, { uniform: params(k + 100) }], [1]);
    return device.endRecording();
  }

  it('learns the advancing words from two steps, predicts the third, and replays it bit for bit', async () => {
    const first = recordStep(7);
    const second = recordStep(8);
    expect(first.commands.map((c) => c.kind)).toEqual(['dispatch', 'submit', 'dispatch']);
    const learned = StepUniforms.learn(first, second)!;
    expect(learned).toBeDefined();
    const third = recordStep(9);
    expect(learned.predicts(third, 2, second)).toBe(true);
    expect(learned.predicts(third, 1, second)).toBe(false);
    expect(Array.from(await out.read())).toEqual([1 + 109, 2 + 109, 3 + 109]);
    for (const k of [3, 10]) {
      device.replay(third, learned.at(k));
      const step = 7 + k;
      expect(Array.from(await out.read())).toEqual([1 + step + 100, 2 + step + 100, 3 + step + 100]);
    }
    // The float word did not change, so it is not advanced.
    expect(new Float32Array(learned.at(5)[0].buffer, 4, 1)[0]).toBe(0.5);
  });

  it('a stale uniform replays another step (what a broken replay would do)', async () => {
    const first = recordStep(1);
    const learned = StepUniforms.learn(first, recordStep(2))!;
    device.replay(first, learned.at(4));
    const right = Array.from(await out.read());
    device.replay(first, learned.at(3));
    expect(Array.from(await out.read())).not.toEqual(right);
  });

  it('other workgroups or kernels are another structure: nothing is learned', () => {
    const a = recordStep(1);
    expect(sameStructure(a, recordStep(2))).toBe(true);
    expect(sameStructure(a, recordStep(2, 2))).toBe(false);
    expect(StepUniforms.learn(a, recordStep(2, 2))).toBeUndefined();
  });

  it('refuses uploads and readbacks while recording, and uniforms that do not fit the recording', async () => {
    device.beginRecording();
    try {
      const target = Tensor.empty(device, [1], 'f32');
      expect(() => target.write([1])).toThrow(DeviceError);
      target.dispose();
      await expect(out.read()).rejects.toThrow(/readbacks cannot be replayed/);
      expect(() => device.beginRecording()).toThrow(/already open/);
    } finally {
      device.endRecording();
    }
    const work = recordStep(1);
    const uniforms = recordedUniforms(work);
    expect(() => device.replay(work, uniforms.slice(1))).toThrow(/missing or of another length/);
    expect(() => device.replay(work, [...uniforms, uniforms[0]])).toThrow(/2 used/);
    await device.sync();
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, Tensor, type Device, type Tensor as T } from '../src/index.js';

// out[r, c] = 2 * x[r, c] + (rowStart + r): each row block is its own dispatch, and the kernel
// knows which rows of the whole tensor its block holds.
const BLOCK_KERNEL = /* wgsl */ `
struct Params { rowStart: u32, rowCount: u32, cols: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let i = id.x + id.y * n.x * 256u;
  if (i >= p.rowCount * p.cols) { return; }
  out[i] = 2.0 * x[i] + f32(p.rowStart + i / p.cols);
}`;

function runPerBlock(device: Device, x: T<'f32'>, out: T<'f32'>): void {
  const kernel = device.kernel(BLOCK_KERNEL, 'double-plus-row');
  const cols = x.shape[1];
  const outBlocks = out.blocks();
  x.blocks().forEach((block, i) => {
    expect(outBlocks[i].rowStart).toBe(block.rowStart);
    const groups = Math.ceil((block.rowCount * cols) / 256);
    const gx = Math.min(groups, 65535);
    device.dispatch(
      kernel,
      [block.ref, outBlocks[i].ref, { uniform: new Uint32Array([block.rowStart, block.rowCount, cols]) }],
      [gx, Math.ceil(groups / gx)],
    );
  });
}

describe('tensors above the binding limit', () => {
  let device: Device;
  beforeAll(async () => {
    device = await createDevice();
  });
  afterAll(() => device.destroy());

  it('splits a tensor larger than maxStorageBufferBindingSize into row blocks a kernel can address', async () => {
    const limit = device.limits.maxStorageBufferBindingSize;
    const cols = 896;
    const rows = Math.floor(limit / (cols * 4)) + 3000; // just above the limit in f32
    const data = new Float32Array(rows * cols);
    for (let i = 0; i < data.length; i += 1) data[i] = (i % 1000) * 0.5;
    const x = Tensor.fromArray(device, data, [rows, cols], 'f32');
    expect(x.byteLength).toBeGreaterThan(limit);
    expect(x.isSplit).toBe(true);
    for (const b of x.blocks()) expect(b.ref.size).toBeLessThanOrEqual(limit);
    const out = Tensor.empty(device, [rows, cols], 'f32');
    runPerBlock(device, x, out);
    const back = await out.read();
    for (const r of [0, 1, 37448, 37449, rows - 1]) {
      for (const c of [0, 5, cols - 1]) {
        const i = r * cols + c;
        expect(back[i]).toBe(2 * data[i] + r);
      }
    }
    expect(back.length).toBe(rows * cols);
    x.dispose();
    out.dispose();
  });

  it('splits at a smaller block size too, keeping blocks whole rows and 4-byte sized (f16)', async () => {
    const rows = 1001;
    const cols = 3; // 6-byte rows: blocks must hold an even number of rows
    const values = Float32Array.from({ length: rows * cols }, (_, i) => i % 2048);
    const t = Tensor.fromArray(device, values, [rows, cols], 'f16', { maxBlockBytes: 1000 });
    const blocks = t.blocks();
    expect(blocks.length).toBeGreaterThan(5);
    let next = 0;
    for (const b of blocks) {
      expect(b.rowStart).toBe(next);
      expect((b.rowCount * cols * 2) % 4 === 0 || b.rowStart + b.rowCount === rows).toBe(true);
      next += b.rowCount;
    }
    expect(next).toBe(rows);
    expect(Array.from(await t.toFloat32())).toEqual(Array.from(values));
    t.dispose();
  });
});

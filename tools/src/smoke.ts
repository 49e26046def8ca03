/**
 * The main job until the model lands: open a WebGPU device, say which adapter it is, run a kernel
 * over a tensor larger than the adapter's binding limit, and check the answer.
 */
import { createDevice, DeviceError, Tensor } from '@fastvlm/tensor';

const SQUARE_PLUS_ROW = /* wgsl */ `
struct Params { rowStart: u32, count: u32, cols: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let i = id.x + id.y * n.x * 256u;
  if (i < p.count) { y[i] = x[i] * x[i] + f32(p.rowStart + i / p.cols); }
}`;

async function main(): Promise<void> {
  const device = await createDevice();
  console.log(`adapter: ${device.name}`);
  console.log(`features: ${[...device.features].join(', ') || '(none)'}`);
  console.log(`max storage binding: ${(device.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB`);

  const cols = 896;
  const rows = Math.ceil(device.limits.maxStorageBufferBindingSize / (cols * 4)) + 1024;
  const x = Tensor.fromArray(device, new Float32Array(rows * cols).fill(3), [rows, cols], 'f32');
  const y = Tensor.empty(device, [rows, cols], 'f32');
  const kernel = device.kernel(SQUARE_PLUS_ROW, 'square-plus-row');
  const started = performance.now();
  const yBlocks = y.blocks();
  x.blocks().forEach((block, i) => {
    const count = block.rowCount * cols;
    const groups = Math.ceil(count / 256);
    const gx = Math.min(groups, 65535);
    device.dispatch(
      kernel,
      [block.ref, yBlocks[i].ref, { uniform: new Uint32Array([block.rowStart, count, cols]) }],
      [gx, Math.ceil(groups / gx)],
    );
  });
  const out = await y.read();
  const ms = performance.now() - started;
  const last = out[out.length - 1];
  const ok = out[0] === 9 && last === 9 + rows - 1;
  console.log(
    `${rows}x${cols} f32 (${(x.byteLength / 2 ** 20).toFixed(0)} MiB, ${x.blocks().length} row blocks): ${ok ? 'correct' : 'WRONG'} in ${ms.toFixed(0)} ms`,
  );
  x.dispose();
  y.dispose();
  device.destroy();
  if (!ok) process.exit(1);
}

main().catch((error: unknown) => {
  console.error(error instanceof DeviceError ? `error: ${error.message}` : error);
  process.exit(1);
});

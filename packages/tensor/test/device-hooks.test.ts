import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDevice, DeviceError, Tensor, type ObservedDispatch } from '../src/index.js';
import { shortHash, wgslDumpName } from '../src/node/wgsl-dump.js';

const DOUBLE = /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x < arrayLength(&x)) { x[id.x] = 2.0 * x[id.x]; }
}`;

describe('device options for tests and debugging', () => {
  it('FASTVLM_DUMP_WGSL=DIR writes each compiled shader once, as <label>-<hash>.wgsl', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wgsl-dump-'));
    const saved = process.env.FASTVLM_DUMP_WGSL;
    process.env.FASTVLM_DUMP_WGSL = join(dir, 'shaders');
    try {
      const device = await createDevice();
      try {
        const x = Tensor.fromArray(device, [1, 2, 3], [3], 'f32');
        for (let i = 0; i < 2; i++) device.dispatch(device.kernel(DOUBLE, 'double/x'), [x], [1]);
        expect(Array.from(await x.read())).toEqual([4, 8, 12]);
        x.dispose();
      } finally {
        device.destroy();
      }
      const files = readdirSync(join(dir, 'shaders'));
      expect(files).toEqual([wgslDumpName('double/x', DOUBLE)]);
      expect(files[0]).toBe(`double_x-${shortHash(DOUBLE)}.wgsl`);
      expect(readFileSync(join(dir, 'shaders', files[0]), 'utf8')).toBe(`// double/x\n${DOUBLE.trim()}\n`);
    } finally {
      if (saved === undefined) delete process.env.FASTVLM_DUMP_WGSL;
      else process.env.FASTVLM_DUMP_WGSL = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('onShaderCompiled sees every new shader; distinct sources get distinct hashes', async () => {
    const seen: string[] = [];
    const device = await createDevice({ onShaderCompiled: (label) => seen.push(label) });
    try {
      device.kernel(DOUBLE, 'a');
      device.kernel(DOUBLE, 'a');
      device.kernel(DOUBLE.replace('2.0', '3.0'), 'b');
      expect(seen).toEqual(['a', 'b']);
      expect(device.kernels.list().map((k) => [k.label, k.source])).toEqual([
        ['a', DOUBLE],
        ['b', DOUBLE.replace('2.0', '3.0')],
      ]);
      expect(shortHash(DOUBLE)).not.toBe(shortHash(DOUBLE.replace('2.0', '3.0')));
    } finally {
      device.destroy();
    }
  });

  it('limitCaps.maxStorageBufferBindingSize lowers the binding limit as tensors see it, so they split into row blocks', async () => {
    const device = await createDevice({ limitCaps: { maxStorageBufferBindingSize: 4096 } });
    try {
      expect(device.limits.maxStorageBufferBindingSize).toBe(4096);
      const t = Tensor.zeros(device, [10, 256], 'f32'); // 10 KiB
      expect(t.blocks().map((b) => b.rowCount)).toEqual([4, 4, 2]);
      t.dispose();
    } finally {
      device.destroy();
    }
  });

  it("kernelShape: 'cpu' on a CPU adapter by default, forced by the option, anything else refused", async () => {
    const device = await createDevice();
    try {
      expect(device.kernelShape).toBe(device.info.isCpu ? 'cpu' : 'gpu');
    } finally {
      device.destroy();
    }
    const gpu = await createDevice({ kernelShape: 'gpu' });
    try {
      expect(gpu.kernelShape).toBe('gpu');
    } finally {
      gpu.destroy();
    }
    await expect(createDevice({ kernelShape: 'tpu' as 'gpu' })).rejects.toThrow(DeviceError);
    await expect(createDevice({ kernelShape: 'tpu' as 'gpu' })).rejects.toThrow(/kernelShape must be 'cpu' or 'gpu'/);
  });

  it('observeDispatches reports each recorded dispatch (kernel, grid, work) until stopped; a dry run records none', async () => {
    const device = await createDevice();
    try {
      const seen: ObservedDispatch[] = [];
      const stop = device.observeDispatches((d) => seen.push(d));
      const x = Tensor.fromArray(device, [1, 2, 3], [3], 'f32');
      device.dispatch(device.kernel(DOUBLE, 'double/x'), [x], [1], { bytes: 24, detail: '[3]' });
      stop();
      device.dispatch(device.kernel(DOUBLE, 'double/x'), [x], [1]);
      expect(Array.from(await x.read())).toEqual([4, 8, 12]);
      expect(seen.map((d) => [d.kernel.label, d.workgroups, d.work.bytes])).toEqual([['double/x', [1, 1, 1], 24]]);
      const dry = device.observeDispatches((d) => seen.push(d), { dryRun: true });
      device.dispatch(device.kernel(DOUBLE, 'double/x'), [x], [1]);
      dry();
      expect(Array.from(await x.read()), 'a dry run records nothing').toEqual([4, 8, 12]);
      expect(seen).toHaveLength(2);
      device.dispatch(device.kernel(DOUBLE, 'double/x'), [x], [1]);
      expect(Array.from(await x.read()), 'dispatches run again after it').toEqual([8, 16, 24]);
      x.dispose();
    } finally {
      device.destroy();
    }
  });
});

/**
 * Mesa's shader cache in a folder of our own (node/shader-cache.ts): the rules on the environment,
 * and, in this process (vitest forks one per file), that Mesa does write compiled code there.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDevice, Tensor } from '../src/index.js';
import { configureShaderCache, shaderCacheDir, shaderCacheForProcess } from '../src/node/shader-cache.js';

const scratch = mkdtempSync(join(tmpdir(), 'shader-cache-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Bytes of every file under `dir`. */
function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

describe('configureShaderCache', () => {
  it('points Mesa at $XDG_CACHE_HOME/fastvlm/mesa-shader-cache and creates it', () => {
    const env: NodeJS.ProcessEnv = { XDG_CACHE_HOME: join(scratch, 'xdg') };
    const dir = join(scratch, 'xdg', 'fastvlm', 'mesa-shader-cache');
    expect(configureShaderCache(env)).toEqual({ source: 'ours', dir });
    expect(env.MESA_SHADER_CACHE_DIR).toBe(dir);
    expect(statSync(dir).isDirectory()).toBe(true);
  });

  it('uses ~/.cache without an absolute XDG_CACHE_HOME', () => {
    const expected = join(homedir(), '.cache', 'fastvlm', 'mesa-shader-cache');
    expect(shaderCacheDir({})).toBe(expected);
    expect(shaderCacheDir({ XDG_CACHE_HOME: 'relative/cache' })).toBe(expected);
  });

  it('keeps a folder the environment names, and a disabled cache disabled', () => {
    const named: NodeJS.ProcessEnv = { MESA_SHADER_CACHE_DIR: join(scratch, 'mine'), XDG_CACHE_HOME: scratch };
    expect(configureShaderCache(named)).toEqual({ source: 'environment', dir: join(scratch, 'mine') });
    expect(named.MESA_SHADER_CACHE_DIR).toBe(join(scratch, 'mine'));
    for (const value of ['true', '1', 'TRUE', 'yes']) {
      const env: NodeJS.ProcessEnv = { MESA_SHADER_CACHE_DISABLE: value, XDG_CACHE_HOME: scratch };
      expect(configureShaderCache(env)).toEqual({ source: 'disabled' });
      expect(env.MESA_SHADER_CACHE_DIR).toBeUndefined();
    }
    const off: NodeJS.ProcessEnv = { MESA_SHADER_CACHE_DISABLE: 'false', XDG_CACHE_HOME: join(scratch, 'off') };
    expect(configureShaderCache(off).source).toBe('ours');
  });

  it('leaves Mesa its default when the folder cannot be made', () => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, 'not a folder');
    const env: NodeJS.ProcessEnv = { XDG_CACHE_HOME: file };
    expect(configureShaderCache(env)).toEqual({ source: 'default' });
    expect(env.MESA_SHADER_CACHE_DIR).toBeUndefined();
  });
});

describe("Mesa's cache in our folder, this process", () => {
  it('holds the compiled code of a shader dispatched once', async () => {
    const saved = { dir: process.env.MESA_SHADER_CACHE_DIR, xdg: process.env.XDG_CACHE_HOME };
    delete process.env.MESA_SHADER_CACHE_DIR;
    process.env.XDG_CACHE_HOME = join(scratch, 'process');
    try {
      // createDevice -> createDawnGpu applies the setting before Dawn's instance exists.
      const device = await createDevice();
      const setting = shaderCacheForProcess();
      expect(setting).toEqual({ source: 'ours', dir: join(scratch, 'process', 'fastvlm', 'mesa-shader-cache') });
      try {
        // A constant of this run makes the shader new to any cache.
        const salt = Date.now() % 1_000_000;
        const code = /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x < arrayLength(&x)) { x[id.x] = x[id.x] + ${salt}.0; }
}`;
        const x = Tensor.fromArray(device, [1, 2, 3], [3], 'f32');
        device.dispatch(device.kernel(code, 'salted'), [x], [1]);
        expect(Array.from(await x.read())).toEqual([1 + salt, 2 + salt, 3 + salt]);
        x.dispose();
      } finally {
        device.destroy();
      }
      if (/mesa/i.test(device.name)) {
        expect(existsSync(setting.dir!)).toBe(true);
        expect(folderBytes(setting.dir!)).toBeGreaterThan(0);
      } else {
        // Another driver has its own cache (or none): the variable is set and harmless.
        expect(process.env.MESA_SHADER_CACHE_DIR).toBe(setting.dir);
      }
    } finally {
      if (saved.dir === undefined) delete process.env.MESA_SHADER_CACHE_DIR;
      else process.env.MESA_SHADER_CACHE_DIR = saved.dir;
      if (saved.xdg === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved.xdg;
    }
  });
});

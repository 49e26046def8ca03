/**
 * Every package's main entry, and the page, bundle for a browser with esbuild — platform 'browser',
 * no Node built-in, no shim — and the metafile lists what went in. A `node:` import anywhere in a
 * main entry's graph fails here.
 */
import { describe, expect, it } from 'vitest';
import { bundlePackage, bundlePage, describeInputs, PORTABLE_PACKAGES } from '../src/web/bundle.js';

describe('browser bundles', () => {
  it.each(PORTABLE_PACKAGES)('%s bundles for the browser with no Node built-in', async (name) => {
    const bundle = await bundlePackage(name);
    expect(bundle.bytes).toBeGreaterThan(1000);
    const paths = Object.keys(bundle.metafile.inputs);
    expect(paths.some((p) => p.startsWith(`packages/${name.slice('@fastvlm/'.length)}/src/`))).toBe(true);
    for (const path of paths) expect(path).not.toMatch(/^node:|\/node\/|webgpu\/index|pngjs/);
    console.log(`${name}: ${(bundle.bytes / 1000).toFixed(1)} kB, ${paths.length} inputs`);
  });

  it('the page bundles with every package it uses, and its metafile says what went in', async () => {
    const bundle = await bundlePage();
    const packages = new Set(bundle.inputs.map((i) => i.path.split('/').slice(0, 2).join('/')));
    for (const p of [
      'packages/tensor',
      'packages/kernels',
      'packages/image',
      'packages/fastvithd',
      'packages/qwen2',
      'packages/llava',
      'tools/web',
    ])
      expect(packages).toContain(p);
    expect(bundle.files.has('app.js')).toBe(true);
    expect(bundle.files.has('app.js.map')).toBe(true);
    console.log(`page bundle (inputs by size):\n${describeInputs(bundle, 15)}`);
  });

  it('refuses a bundle whose graph reaches a Node built-in', async () => {
    await expect(bundlePackage('@fastvlm/tensor/node')).rejects.toThrow(/node:|Could not resolve/);
  });
});

/**
 * Each browser project really runs on the adapter it is named after (a flag Chromium ignored would
 * otherwise leave both projects on one adapter, and the parity numbers would say nothing), and says
 * which, with the limits the kernels use, in the CI log.
 */
import { describe, expect, inject, it } from 'vitest';
import { testDevice } from '../../packages/kernels/test/fixtures.js';
import type { BrowserAdapter } from './chromium.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adapter: BrowserAdapter;
  }
}

describe('the browser project runs on its WebGPU adapter', () => {
  const adapter = inject('adapter');

  it(`${adapter}: the device is the expected adapter, with the expected features`, async () => {
    const device = await testDevice();
    try {
      const info = device.adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
      const limits = Object.entries(device.limits)
        .map(([name, value]) => `${name} ${value}`)
        .join(', ');
      console.log(
        `[adapter] ${adapter}: ${device.name}; features [${[...device.features].join(', ')}]; ` +
          `subgroup sizes ${info.subgroupMinSize ?? '-'}..${info.subgroupMaxSize ?? '-'}; ${limits}`,
      );
      expect(device.name).not.toBe('unnamed adapter');
      if (adapter === 'swiftshader') {
        expect(device.featureLevel).toBe('core');
        expect(info.architecture).toBe('swiftshader');
        expect(device.has('subgroups')).toBe(true);
        expect(info.subgroupMinSize).toBe(4);
        expect(device.has('shader-f16')).toBe(false);
      } else {
        expect(device.featureLevel).toBe('compatibility');
        expect(device.features.size).toBe(0);
        expect(info.description).toMatch(/llvmpipe/);
        expect(device.limits.maxStorageBufferBindingSize).toBe(128 * 1024 * 1024);
      }
    } finally {
      device.destroy();
    }
  });
});

/**
 * The kernel parity suites, unchanged, in Chromium (Vitest's browser mode, driven by Playwright):
 * one project per WebGPU adapter Chromium offers here (tools/web-ci/chromium.ts). Each runs the
 * same test files, against the same PyTorch fixtures, as the Node run (one case per variant:
 * fixtures.ts `cases`); `npm run test:browser`
 * runs the projects one after the other and prints their errors next to Node's.
 */
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { BROWSER_ADAPTERS, FEATURE_LEVEL, launchOptions } from './tools/web-ci/chromium.js';

export default defineConfig({
  resolve: { conditions: ['source', 'import', 'default'] },
  test: {
    include: ['tools/web-ci/**/*.browser.test.ts', 'packages/kernels/test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 300_000,
    browser: {
      enabled: true,
      headless: true,
      screenshotFailures: false,
      instances: BROWSER_ADAPTERS.map((adapter) => ({
        browser: 'chromium' as const,
        name: adapter,
        // the suites' devices ask for this feature level (packages/kernels/test/fixtures.ts: testDevice)
        provide: { adapter, featureLevel: FEATURE_LEVEL[adapter], paritySubset: true },
        // SwiftShader's shader compiler takes over 4 GB (and climbing) on the stride-2 depthwise
        // kernels (stem3x3s2, odd3x3s2; measured 2026-12-03): that file runs on the other adapter
        // only; stride-1 depthwise runs on SwiftShader in fold-batch-norm.test.ts.
        exclude: adapter === 'swiftshader' ? ['packages/kernels/test/depthwise-conv2d.test.ts'] : [],
        provider: playwright({ launchOptions: launchOptions(adapter) }),
      })),
    },
  },
});

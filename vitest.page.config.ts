/**
 * The browser page end to end (tools/web-ci/page.e2e.test.ts): a Node test that serves the page and
 * drives Debian's Chromium with playwright-core. Run by `npm run test:browser`.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['source', 'import', 'default'] },
  ssr: { resolve: { conditions: ['source', 'import', 'default'], externalConditions: ['source'] } },
  test: {
    include: ['tools/web-ci/**/*.e2e.test.ts'],
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});

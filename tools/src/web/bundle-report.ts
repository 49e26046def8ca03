/**
 * `node tools/dist/web/bundle-report.js [OUT_DIR]`: the proof that `@fastvlm/llava` runs in a browser
 * as published: its main entry bundled by esbuild for `platform: 'browser'` (no Node built-in, no
 * shim: one would fail the build), its size, and the inputs esbuild's metafile lists, largest first.
 * With OUT_DIR, the metafile is written there too (`llava-bundle.meta.json`).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundlePackage, describeInputs } from './bundle.js';

export async function bundleReport(outDir?: string): Promise<string> {
  const bundle = await bundlePackage('@fastvlm/llava');
  const packages = new Map<string, number>();
  for (const input of bundle.inputs) {
    const owner = input.path.split('/').slice(0, 2).join('/');
    packages.set(owner, (packages.get(owner) ?? 0) + input.bytes);
  }
  if (outDir !== undefined) {
    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, 'llava-bundle.meta.json'), JSON.stringify(bundle.metafile, null, 1));
  }
  const byPackage = [...packages]
    .sort((a, b) => b[1] - a[1])
    .map(([p, bytes]) => `${(bytes / 1000).toFixed(1)} kB ${p}`);
  return [
    `@fastvlm/llava browser bundle (esbuild, platform browser, minified, no Node built-in): ${(bundle.bytes / 1000).toFixed(1)} kB, ${bundle.inputs.length} inputs`,
    `by package: ${byPackage.join(', ')}`,
    'inputs (metafile), largest first:',
    describeInputs(bundle),
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${await bundleReport(process.argv[2])}\n`);
}

/**
 * Browser bundles built with esbuild: the page (`tools/web/src/main.ts`) and, to prove they are
 * portable, each package's main entry. Workspace packages are bundled from their TypeScript sources
 * (the `source` export condition) for `platform: 'browser'`, with no Node built-in allowed and no
 * shim: a `node:` import anywhere in the graph fails the build. The metafile says what went in.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';

/** The repository root (the same from tools/src/web and tools/dist/web). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const PAGE_DIR = join(REPO_ROOT, 'tools/web');

export interface Bundle {
  /** Output files by name (`app.js`, `app.js.map`). */
  files: Map<string, Uint8Array>;
  /** Bytes of the JavaScript output (the map excluded). */
  bytes: number;
  /** Every input file with its bytes in the output, repository-relative, largest first. */
  inputs: { path: string; bytes: number }[];
  metafile: Metafile;
}

/** Packages whose main entry must bundle for a browser. */
export const PORTABLE_PACKAGES = [
  '@fastvlm/tensor',
  '@fastvlm/kernels',
  '@fastvlm/image',
  '@fastvlm/nn',
  '@fastvlm/fastvithd',
  '@fastvlm/qwen2',
  '@fastvlm/llava',
] as const;

/** Node built-in modules, by name, as they may appear among a metafile's inputs or imports. */
const NODE_BUILTIN =
  /^(node:|(fs|path|os|module|stream|zlib|util|assert|buffer|child_process|crypto|net|http|https|url|worker_threads|events)(\/|$))/;

async function bundle(entry: { contents: string } | string, name: string, minify: boolean): Promise<Bundle> {
  const result = await build({
    ...(typeof entry === 'string'
      ? { entryPoints: { [name]: entry } }
      : { stdin: { contents: entry.contents, resolveDir: REPO_ROOT, loader: 'ts', sourcefile: `${name}.ts` } }),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    conditions: ['source'],
    minify,
    sourcemap: typeof entry === 'string' ? 'linked' : false,
    metafile: true,
    write: false,
    outdir: 'out',
    logLevel: 'silent',
  });
  const files = new Map(result.outputFiles.map((f) => [f.path.slice(f.path.lastIndexOf('/') + 1), f.contents]));
  const js = [...files].find(([file]) => file.endsWith('.js'));
  const output = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith('.js'))?.[1];
  const inputs = Object.entries(output?.inputs ?? {})
    .map(([path, info]) => ({ path, bytes: info.bytesInOutput }))
    .sort((a, b) => b.bytes - a.bytes);
  const builtins = Object.keys(result.metafile.inputs).filter((path) => NODE_BUILTIN.test(path));
  if (builtins.length > 0) throw new Error(`${name}: the browser bundle took Node built-ins: ${builtins.join(', ')}`);
  return { files, bytes: js?.[1].byteLength ?? 0, inputs, metafile: result.metafile };
}

/** The page's bundle (`app.js` + `app.js.map`). */
export function bundlePage(options: { minify?: boolean } = {}): Promise<Bundle> {
  return bundle(join(PAGE_DIR, 'src/main.ts'), 'app', options.minify ?? true);
}

/** A bundle of everything a package's main entry exports (nothing tree-shaken away). */
export function bundlePackage(name: string): Promise<Bundle> {
  return bundle({ contents: `export * from '${name}';` }, name.replace(/\W/g, '_'), true);
}

/** One line per input, `  12.3 kB  packages/tensor/src/device.ts`, then the total. */
export function describeInputs(bundle: Bundle, limit = Infinity): string {
  const kb = (n: number): string => `${(n / 1000).toFixed(1).padStart(7)} kB`;
  const lines = bundle.inputs.slice(0, limit).map((i) => `${kb(i.bytes)}  ${i.path}`);
  if (bundle.inputs.length > limit) lines.push(`   (${bundle.inputs.length - limit} more inputs)`);
  lines.push(`${kb(bundle.bytes)}  total, ${bundle.inputs.length} inputs`);
  return lines.join('\n');
}

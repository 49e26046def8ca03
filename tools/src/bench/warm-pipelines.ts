/**
 * `npm run bench:warm`: what `FastVLM.load`'s pipeline warm-up (`warmPipelines`) saves a fresh
 * process, with and without Mesa's shader cache. Fresh processes in turn, warm-up on and off
 * alternating: each loads the model, waits for the GPU (the warm-up's compiles that outlast the load),
 * then runs the vision tower once on a blank image (what the first `describe` does first). With
 * `--cache empty` every process gets an emptied Mesa cache folder (a first-ever run: LLVM compiles
 * every pipeline); with `--cache kept` one folder filled by a first process is shared.
 *
 *   node tools/dist/bench/warm-pipelines.js [--model DIR] [--dtype f16] [--cache empty|kept] [--rounds 2]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FastVLM } from '@fastvlm/llava';
import type { ModelDType } from '@fastvlm/qwen2';
import { Tensor } from '@fastvlm/tensor';
import { formatMs, formatTable } from './table.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

interface Timing {
  loadMs: number;
  /** From the model loaded to the GPU idle: the warm-up's work that outlasted the load. */
  syncMs: number;
  /** The tower on a blank image, compiles included where the warm-up did not make them. */
  towerMs: number;
}

/** Child mode: one load and one tower, timed; prints a Timing as JSON. */
async function child(model: string, dtype: ModelDType, warmPipelines: boolean): Promise<void> {
  const started = performance.now();
  const vlm = await FastVLM.load(model, { dtype, warmPipelines });
  const loaded = performance.now();
  await vlm.device.sync();
  const synced = performance.now();
  const N = vlm.config.imageSize;
  const features = vlm.device.scope(() => vlm.vision.encode(Tensor.zeros(vlm.device, [N, N, 3], 'f32')));
  await features.read();
  const timing: Timing = { loadMs: loaded - started, syncMs: synced - loaded, towerMs: performance.now() - synced };
  features.dispose();
  vlm.dispose();
  process.stdout.write(`${JSON.stringify(timing)}\n`);
}

function fresh(model: string, dtype: string, warm: boolean, cacheDir: string): Timing {
  const args = [fileURLToPath(import.meta.url), '--child', warm ? 'warm' : 'cold', '--model', model, '--dtype', dtype];
  const result = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, MESA_SHADER_CACHE_DIR: cacheDir },
  });
  if (result.status !== 0) throw new Error(`the ${warm ? 'warm' : 'cold'} process failed (${String(result.status)})`);
  return JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as Timing;
}

async function main(): Promise<void> {
  const model = resolve(arg('--model', join(ROOT, '.cache/bench-0.5b')));
  const dtype = arg('--dtype', 'f16');
  if (process.argv.includes('--child')) return child(model, dtype as ModelDType, arg('--child', '') === 'warm');
  const cache = arg('--cache', 'empty');
  if (cache !== 'empty' && cache !== 'kept') throw new Error(`--cache must be 'empty' or 'kept', got '${cache}'`);
  const rounds = Number(arg('--rounds', '2'));
  const kept = mkdtempSync(join(tmpdir(), 'fastvlm-mesa-cache-'));
  const rows: string[][] = [];
  try {
    if (cache === 'kept') fresh(model, dtype, false, kept); // fills the cache
    for (let round = 1; round <= rounds; round++) {
      for (const warm of [true, false]) {
        const dir = cache === 'kept' ? kept : mkdtempSync(join(tmpdir(), 'fastvlm-mesa-cache-'));
        try {
          const t = fresh(model, dtype, warm, dir);
          rows.push([
            String(round),
            warm ? 'on' : 'off',
            formatMs(t.loadMs),
            formatMs(t.syncMs),
            formatMs(t.towerMs),
            formatMs(t.loadMs + t.syncMs + t.towerMs),
          ]);
        } finally {
          if (dir !== kept) rmSync(dir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    rmSync(kept, { recursive: true, force: true });
  }
  process.stdout.write(
    `${model}, dtype ${dtype}, Mesa shader cache ${cache === 'empty' ? 'emptied for every process' : 'kept across processes'}\n\n` +
      formatTable(
        ['round', 'warm-up', 'load ms', 'GPU busy after load ms', 'first tower ms', 'start -> tower done ms'],
        rows,
      ) +
      '\n',
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `error: ${error.message}` : error);
  process.exit(1);
});

/**
 * `npm run bench:cold`: what a fresh `describe` costs against a warm one. Two fresh processes of
 * `fastvlm bench` in turn on one Mesa shader cache folder, emptied before the first: the first
 * compiles every pipeline (a first-ever run), the second finds them on disk (every later run: the
 * cache persists, see @fastvlm/tensor/node shader-cache.ts). Each reports `coldMs` (process start to
 * the first token of its first generation) and the warm TTFT of its later runs (the same process,
 * every pipeline compiled): the ratio is what a user feels first.
 *
 *   node tools/dist/bench/cold-start.js [--model DIR] [--dtype f16] [--runs 2] [--json]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchReport } from '../cli/commands/bench.js';
import { formatMs, formatTable } from './table.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

function benchProcess(model: string, dtype: string, runs: string, cacheDir: string): BenchReport {
  const args = [join(ROOT, 'tools/bin/fastvlm.js'), 'bench', '--model', model, '--dtype', dtype, '--runs', runs];
  args.push('--max-new-tokens', '8', '--ignore-eos', '--json');
  process.stderr.write(
    `MESA_SHADER_CACHE_DIR=${cacheDir} node ${args.map((a) => a.replace(`${ROOT}/`, '')).join(' ')}\n`,
  );
  const result = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, MESA_SHADER_CACHE_DIR: cacheDir },
  });
  if (result.status !== 0) throw new Error(`fastvlm bench failed with status ${String(result.status)}`);
  return JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as BenchReport;
}

const model = resolve(arg('--model', join(ROOT, '.cache/bench-0.5b')));
const dtype = arg('--dtype', 'f16');
const runs = arg('--runs', '2');
const cacheDir = mkdtempSync(join(tmpdir(), 'fastvlm-mesa-cache-'));
try {
  const reports = ['emptied shader cache', 'shader cache from the process before'].map(
    (label) => [label, benchProcess(model, dtype, runs, cacheDir)] as const,
  );
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(Object.fromEntries(reports))}\n`);
  } else {
    const ratio = (cold: number | null, warm: number | null): string =>
      cold === null || warm === null ? '-' : (cold / warm).toFixed(2);
    const rows = reports.map(([label, r]) => [
      label,
      formatMs(r.coldLoadMs),
      r.coldMs === null ? '-' : formatMs(r.coldMs),
      `${r.ttftMs === null ? '-' : formatMs(r.ttftMs)} / ${r.runs.median.ttftMs === null ? '-' : formatMs(r.runs.median.ttftMs)}`,
      ratio(r.coldMs, r.ttftMs),
      ratio(r.coldMs, r.runs.median.ttftMs),
      `${r.pipelines.load} / ${r.pipelines.warmUp} / ${r.pipelines.runs}`,
    ]);
    const first = reports[0][1];
    process.stdout.write(
      `${first.adapter}, ${model}, dtype ${first.dtype} (vision ${first.visionDtype}), input ${first.inputSize}, prompt ${first.promptTokens} positions, ${runs} warm runs per process\n\n` +
        formatTable(
          [
            'fresh process',
            'start -> loaded',
            'start -> first token (cold)',
            'warm TTFT min / median',
            'cold / warm min',
            'cold / warm median',
            'pipelines: load / warm-up / runs',
          ],
          rows,
        ) +
        '\n',
    );
  }
} finally {
  rmSync(cacheDir, { recursive: true, force: true });
}

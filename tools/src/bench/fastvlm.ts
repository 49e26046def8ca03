/**
 * `npm run bench`: FastVLM-0.5B (random weights in Apple's layout, the 1024x1024 image path) end to
 * end on this machine's WebGPU adapter, with f16 and with int8 LLM weights, then our PyTorch
 * reference on the same checkpoint, image and prompt (fp32, 2 threads), and the ratios.
 *
 *   node tools/dist/bench/fastvlm.js [--model DIR] [--image FILE] [--runs 3] [--new-tokens 64]
 *                                    [--dtype f16,int8] [--no-torch] [--no-profile] [--json]
 *                                    [--torch-device cpu|cuda] [--torch-dtype float32|bfloat16|float16]
 *
 * A --dtype entry is the LLM's weights, optionally /the vision tower's: `int8/int8` is int8 throughout.
 * Each of our dtypes runs in a process of its own (`fastvlm bench --json`), so that its peak RSS
 * is its own, and its `coldMs` (process start to the first token of its first generation) is what a
 * fresh `describe` costs. Without --model a random 0.5b checkpoint is written once to .cache/bench-0.5b.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeRandomCheckpoint } from '../checkpoint/random-checkpoint.js';
import type { BenchReport } from '../cli/commands/bench.js';
import { formatBytes } from '../cli/progress.js';
import { sampleImagePath } from '../demo/demo-assets.js';
import { formatProfile } from './profile-report.js';
import { formatMs, formatTable } from './table.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const FIGURES = [
  'preprocessMs',
  'visionMs',
  'projectorMs',
  'prefillMs',
  'ttftMs',
  'coldMs',
  'decodeMsPerToken',
  'peakRssBytes',
  'peakGpuBytes',
] as const;
type Figure = (typeof FIGURES)[number];
/** Measured once per process (the first generation), not per run. */
const ONCE: readonly Figure[] = ['coldMs'];

interface TorchReport {
  samples: Record<Exclude<Figure, 'peakRssBytes' | 'peakGpuBytes' | 'coldMs'>, number[]>;
  /** Wall clock (ms since the epoch) of the warm-up's first token; with the spawn time, the cold start. */
  coldFirstTokenEpochMs: number;
  coldMs?: number;
  peakRssBytes: number;
  peakGpuBytes?: number;
  torch: string;
  threads: number;
  device: string;
  dtype: string;
  gpu?: string;
}

interface TorchOptions {
  device: string;
  dtype: string;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const min = (values: readonly number[]): number => Math.min(...values);
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function runOurs(
  folder: string,
  image: string,
  entry: string,
  runs: number,
  newTokens: number,
  profile: boolean,
): BenchReport {
  const cli = join(ROOT, 'tools/bin/fastvlm.js');
  const [dtype, vision] = entry.split('/');
  const args = [
    cli,
    'bench',
    '--model',
    folder,
    '--image',
    image,
    '--dtype',
    dtype,
    '--runs',
    String(runs),
    '--max-new-tokens',
    String(newTokens),
    '--ignore-eos',
    '--json',
  ];
  if (vision !== undefined) args.push('--vision-dtype', vision);
  if (profile) args.push('--profile');
  process.stderr.write(
    `ours, ${entry} weights: node ${args.map((a) => (a.startsWith(ROOT) ? a.slice(ROOT.length + 1) : a)).join(' ')}\n`,
  );
  const result = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (result.status !== 0) throw new Error(`fastvlm bench (${entry}) failed with status ${String(result.status)}`);
  return JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as BenchReport;
}

async function runTorch(
  folder: string,
  image: string,
  ids: readonly number[],
  runs: number,
  newTokens: number,
  options: TorchOptions,
): Promise<TorchReport | undefined> {
  const python = process.env.FASTVLM_PYTHON ?? join(ROOT, '.venv/bin/python');
  if (!existsSync(python)) {
    process.stderr.write(`PyTorch side skipped: no ${python} (npm test creates it)\n`);
    return undefined;
  }
  const scratch = await mkdtemp(join(tmpdir(), 'fastvlm-bench-'));
  try {
    const idsFile = join(scratch, 'ids.json');
    await writeFile(idsFile, JSON.stringify(ids));
    const args = [
      join(ROOT, 'tools/python/bench_fastvlm_torch.py'),
      folder,
      '--image',
      image,
      '--ids',
      idsFile,
      '--runs',
      String(runs),
      '--new-tokens',
      String(newTokens),
      '--device',
      options.device,
      '--dtype',
      options.dtype,
    ];
    process.stderr.write(
      `PyTorch: python ${args.map((a) => (a.startsWith(ROOT) ? a.slice(ROOT.length + 1) : a)).join(' ')}\n`,
    );
    const spawnedAt = Date.now();
    const result = spawnSync(python, args, {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (result.status !== 0) throw new Error(`the PyTorch reference failed with status ${String(result.status)}`);
    const report = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as TorchReport;
    return { ...report, coldMs: report.coldFirstTokenEpochMs - spawnedAt };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function show(figure: Figure, value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  return figure.endsWith('Bytes') ? formatBytes(value) : formatMs(value);
}

function torchFigure(
  torch: TorchReport | undefined,
  figure: Figure,
  reduce: (v: readonly number[]) => number,
): number | undefined {
  if (!torch) return undefined;
  if (figure === 'peakRssBytes') return torch.peakRssBytes;
  if (figure === 'peakGpuBytes') return torch.peakGpuBytes;
  if (figure === 'coldMs') return torch.coldMs;
  return reduce(torch.samples[figure]);
}

async function main(): Promise<void> {
  const folder = resolve(arg('--model', join(ROOT, '.cache/bench-0.5b')));
  const runs = Number(arg('--runs', '3'));
  const newTokens = Number(arg('--new-tokens', '64'));
  const dtypes = arg('--dtype', 'f16,int8').split(',');
  const profile = !process.argv.includes('--no-profile');
  if (!existsSync(join(folder, 'model.safetensors'))) {
    process.stderr.write(`writing a random-weight FastVLM-0.5B checkpoint (Apple's layout) to ${folder} ...\n`);
    await writeRandomCheckpoint(folder, { preset: '0.5b', seed: 0 });
  }
  const image = resolve(arg('--image', await sampleImagePath()));
  const ours = dtypes.map((dtype) => runOurs(folder, image, dtype, runs, newTokens, profile));
  const torch = process.argv.includes('--no-torch')
    ? undefined
    : await runTorch(folder, image, ours[0].promptTokenIds, runs, newTokens, {
        device: arg('--torch-device', 'cpu'),
        dtype: arg('--torch-dtype', 'float32'),
      });

  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ ours, torch }));
    return;
  }
  const first = ours[0];
  console.log(
    `FastVLM-0.5B architecture (random weights), image ${first.imageWidth}x${first.imageHeight} -> ${first.inputSize}x${first.inputSize}, ` +
      `prompt ${first.promptTokens} positions (${first.promptTokens - first.promptTokenIds.length + 1} image tokens), ${newTokens} new tokens, ${runs} runs after a warm-up`,
  );
  console.log(
    `ours: ${first.adapter}; PyTorch: ${torch ? `${torch.torch} ${torch.device === 'cuda' ? `CUDA (${torch.gpu ?? 'GPU'})` : `CPU, ${torch.threads} threads`} ${torch.dtype}, tools/python/bench_fastvlm_torch.py` : 'not run'}\n`,
  );
  const name = (r: BenchReport): string =>
    r.visionDtype === (r.dtype === 'f32' ? 'f32' : 'f16') ? r.dtype : `${r.dtype}/${r.visionDtype}`;
  const header = [
    'figure (min / median)',
    ...ours.map((r) => `ours ${name(r)}`),
    'PyTorch',
    ...(torch ? ours.map((r) => `${name(r)} / PyTorch`) : []),
  ];
  const rows = FIGURES.map((figure) => {
    const once = ONCE.includes(figure);
    const cells = ours.map((r) =>
      figure === 'coldMs'
        ? show(figure, r.coldMs)
        : `${show(figure, r[figure])} / ${show(figure, r.runs.median[figure])}`,
    );
    const t = once
      ? show(figure, torchFigure(torch, figure, min))
      : `${show(figure, torchFigure(torch, figure, min))} / ${show(figure, torchFigure(torch, figure, median))}`;
    const tMin = torchFigure(torch, figure, min);
    const ratios = torch
      ? ours.map((r) => (r[figure] !== null && tMin !== undefined && tMin > 0 ? (r[figure] / tMin).toFixed(2) : '-'))
      : [];
    return [figure, ...cells, t, ...ratios];
  });
  console.log(formatTable(header, rows));
  console.log(
    "\n(ratios: minimum over minimum; decode is per token after the first; peak RSS is each process's own; a/b = LLM a, vision tower b;\n" +
      ' coldMs: a fresh process, from its start to its first token, loading and pipeline compiles included, one sample each, on-disk shader caches as this machine has them)',
  );
  for (const r of ours) {
    if (r.gpuWork)
      console.log(
        `ours ${name(r)}: a run records ${r.gpuWork.dispatches} dispatches in ${r.gpuWork.submits} submits, with ${r.gpuWork.readbacks} readbacks (one per token, and the stage timings' waits)`,
      );
  }
  for (const r of ours) if (r.profile) console.log(`\nours, ${name(r)} weights: ${formatProfile(r.profile)}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `error: ${error.message}` : error);
  process.exit(1);
});

/**
 * `npm run bench:vision`: FastViTHD at 1024 on the current adapter, then our PyTorch reference on
 * the same checkpoint on this machine's CPU (fp32, 2 threads), side by side in one run.
 *
 *   node tools/dist/bench/vision.js [--checkpoint FILE] [--size 1024] [--dtype f16|f32] [--runs 3] [--no-torch]
 *
 * The default checkpoint is the random-weight tower the fixtures write
 * (.cache/fixtures/fastvithd/tower-f16.safetensors; `npm run fixtures` makes it).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fastVitHdConfig, loadFastVitHd } from '@fastvlm/fastvithd';
import { createDevice, SafetensorsCheckpoint, Tensor } from '@fastvlm/tensor';
import { formatMs, formatTable } from './table.js';
import { summarise, type Timing } from './timing.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

function torchTiming(
  checkpoint: string,
  size: number,
  runs: number,
): (Timing & { version: string; threads: number }) | undefined {
  const python = process.env.FASTVLM_PYTHON ?? join(ROOT, '.venv/bin/python');
  if (!existsSync(python)) return undefined;
  const result = spawnSync(
    python,
    [join(ROOT, 'tools/python/bench_vision_torch.py'), checkpoint, '--size', String(size), '--runs', String(runs)],
    {
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) {
    console.error(`PyTorch side failed: ${result.stderr}`);
    return undefined;
  }
  const parsed = JSON.parse(result.stdout) as { samplesMs: number[]; torch: string; threads: number };
  return { ...summarise(parsed.samplesMs), version: parsed.torch, threads: parsed.threads };
}

async function main(): Promise<void> {
  const checkpointPath = resolve(arg('--checkpoint', join(ROOT, '.cache/fixtures/fastvithd/tower-f16.safetensors')));
  const size = Number(arg('--size', '1024'));
  const dtype = arg('--dtype', 'f16') as 'f16' | 'f32';
  const runs = Number(arg('--runs', '3'));
  if (!existsSync(checkpointPath))
    throw new Error(`${checkpointPath} is missing: run 'npm run fixtures' or pass --checkpoint`);

  const device = await createDevice();
  const checkpoint = await SafetensorsCheckpoint.open(checkpointPath);
  const tower = await loadFastVitHd(device, checkpoint, { config: fastVitHdConfig(size), dtype });
  await checkpoint.close();
  const pixels = Tensor.fromArray(
    device,
    Float32Array.from({ length: size * size * 3 }, (_, i) => ((i * 2654435761) % 1000) / 1000),
    [size, size, 3],
    'f32',
  );

  const encode = async (): Promise<{ recordMs: number; totalMs: number }> => {
    const started = performance.now();
    const features = tower.encode(pixels);
    const recordMs = performance.now() - started;
    await device.sync();
    const totalMs = performance.now() - started;
    features.dispose();
    return { recordMs, totalMs };
  };
  const first = await encode(); // compiles every pipeline
  const samples: number[] = [];
  const records: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { recordMs, totalMs } = await encode();
    samples.push(totalMs);
    records.push(recordMs);
    process.stderr.write(`  ours run ${i + 1}: ${totalMs.toFixed(0)} ms\n`);
  }
  const ours = summarise(samples);
  const dispatches = device.stats.dispatches;
  const adapter = device.name;
  tower.dispose();
  pixels.dispose();
  device.destroy();

  const torch = process.argv.includes('--no-torch') ? undefined : torchTiming(checkpointPath, size, runs);
  console.log(`FastViTHD ${size}x${size}, ${dtype} weights, adapter: ${adapter}`);
  console.log(
    `first run (with pipeline compiles) ${formatMs(first.totalMs)} ms; recording ${formatMs(summarise(records).medianMs)} ms; ${Math.round(dispatches / (runs + 1))} dispatches, 1 submit per encode`,
  );
  console.log(
    `PyTorch: ${torch ? `${torch.version} CPU fp32, ${torch.threads} threads, our reference on the same checkpoint` : 'not run'}\n`,
  );
  const rows = [
    ['ours (WebGPU)', formatMs(ours.minMs), formatMs(ours.medianMs), String(ours.runs)],
    ...(torch ? [['PyTorch CPU', formatMs(torch.minMs), formatMs(torch.medianMs), String(torch.runs)]] : []),
  ];
  console.log(formatTable(['vision encoder', 'min ms', 'median ms', 'runs'], rows));
  if (torch)
    console.log(
      `\nours / PyTorch: min ${(ours.minMs / torch.minMs).toFixed(2)}, median ${(ours.medianMs / torch.medianMs).toFixed(2)}`,
    );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `error: ${error.message}` : error);
  process.exit(1);
});

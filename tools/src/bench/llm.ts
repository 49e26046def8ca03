/**
 * `npm run bench:llm`: the Qwen2 decoder of FastVLM-0.5B (24 layers, random weights in Apple's layout)
 * on the current adapter — prefill time and decode ms/token — then transformers' Qwen2 on the same
 * weights on this machine's CPU (fp32, 2 threads), side by side in one run.
 *
 *   node tools/dist/bench/llm.js [--model DIR] [--dtype f16|int8|f32 ...] [--prompt-tokens 281] [--decode-tokens 32] [--runs 2] [--no-torch] [--replay-ab]
 *
 * --replay-ab: each run is done twice in turn, with decode steps replayed from a recording (the
 * default, qwen2 decode-steps.ts) and with every step run through the model, and both are reported.
 *
 * Without --model, a random 0.5b checkpoint is written once to .cache/bench-0.5b (~1.2 GB).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeRandomCheckpoint } from '../checkpoint/random-checkpoint.js';
import { generateTokens, loadQwen2, type ModelDType } from '@fastvlm/qwen2';
import { createDevice, type Device } from '@fastvlm/tensor';
import { formatMs, formatTable } from './table.js';
import { summarise, type Timing } from './timing.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

/** The same pseudo-random prompt as tools/python/bench_llm_torch.py. */
function promptIds(count: number, vocab: number): number[] {
  return Array.from({ length: count }, (_, i) => (i * 7919 + 13) % (vocab - 1000));
}

interface LlmTiming {
  prefill: Timing;
  decode: Timing;
}

/** Timings of `dtype` for each decode mode (replayed steps or not), the modes alternating within each run. */
async function timeOurs(
  device: Device,
  folder: string,
  dtype: ModelDType,
  promptTokens: number,
  decodeTokens: number,
  runs: number,
  replayModes: readonly boolean[],
): Promise<LlmTiming[]> {
  const model = await loadQwen2(device, folder, { dtype });
  const ids = promptIds(promptTokens, model.config.vocabSize);
  const samples = replayModes.map(() => ({ prefill: [] as number[], decode: [] as number[] }));
  for (let run = 0; run <= runs; run++) {
    for (const [m, replayDecode] of replayModes.entries()) {
      const started = performance.now();
      let first = 0;
      let count = 0;
      const options = { maxNewTokens: decodeTokens + 1, stopTokenIds: [], replayDecode };
      for await (const _token of generateTokens(model, { ids }, options)) {
        if (count++ === 0) first = performance.now();
      }
      const end = performance.now();
      if (run === 0) continue; // warm-up: pipeline compiles
      samples[m].prefill.push(first - started);
      samples[m].decode.push((end - first) / decodeTokens);
      process.stderr.write(
        `  ours ${dtype}${replayDecode ? '' : ' (no replay)'} run ${run}: prefill ${formatMs(first - started)} ms, decode ${formatMs((end - first) / decodeTokens)} ms/token\n`,
      );
    }
  }
  model.dispose();
  return samples.map((s) => ({ prefill: summarise(s.prefill), decode: summarise(s.decode) }));
}

function timeTorch(
  folder: string,
  promptTokens: number,
  decodeTokens: number,
  runs: number,
): (LlmTiming & { version: string; threads: number }) | undefined {
  const python = process.env.FASTVLM_PYTHON ?? join(ROOT, '.venv/bin/python');
  if (!existsSync(python)) return undefined;
  const args = [
    join(ROOT, 'tools/python/bench_llm_torch.py'),
    folder,
    '--prompt-tokens',
    String(promptTokens),
    '--decode-tokens',
    String(decodeTokens),
    '--runs',
    String(runs),
  ];
  const result = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (result.status !== 0) {
    console.error(`PyTorch side failed: ${result.stderr}`);
    return undefined;
  }
  const parsed = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as {
    prefillMs: number[];
    decodeMsPerToken: number[];
    torch: string;
    threads: number;
  };
  return {
    prefill: summarise(parsed.prefillMs),
    decode: summarise(parsed.decodeMsPerToken),
    version: parsed.torch,
    threads: parsed.threads,
  };
}

async function main(): Promise<void> {
  const folder = resolve(arg('--model', join(ROOT, '.cache/bench-0.5b')));
  const dtypes = arg('--dtype', 'f16,int8').split(',') as ModelDType[];
  const promptTokens = Number(arg('--prompt-tokens', '281'));
  const decodeTokens = Number(arg('--decode-tokens', '32'));
  const runs = Number(arg('--runs', '2'));
  if (!existsSync(join(folder, 'model.safetensors'))) {
    process.stderr.write(`writing a random-weight FastVLM-0.5B checkpoint to ${folder} ...\n`);
    await writeRandomCheckpoint(folder, { preset: '0.5b' });
  }
  const device = await createDevice();
  const rows: string[][] = [];
  const ours: Record<string, LlmTiming> = {};
  const replayModes = process.argv.includes('--replay-ab') ? [true, false] : [true];
  for (const dtype of dtypes) {
    const timings = await timeOurs(device, folder, dtype, promptTokens, decodeTokens, runs, replayModes);
    ours[dtype] = timings[0];
    for (const [m, timing] of timings.entries()) {
      rows.push([
        `ours (WebGPU, ${dtype} weights${replayModes[m] ? '' : ', no decode replay'})`,
        formatMs(timing.prefill.medianMs),
        `${formatMs(timing.decode.minMs)} / ${formatMs(timing.decode.medianMs)}`,
        (1000 / timing.decode.medianMs).toFixed(1),
      ]);
    }
  }
  const adapter = device.name;
  device.destroy();
  const torch = process.argv.includes('--no-torch') ? undefined : timeTorch(folder, promptTokens, decodeTokens, runs);
  if (torch)
    rows.push([
      'PyTorch CPU (fp32)',
      formatMs(torch.prefill.medianMs),
      `${formatMs(torch.decode.minMs)} / ${formatMs(torch.decode.medianMs)}`,
      (1000 / torch.decode.medianMs).toFixed(1),
    ]);
  console.log(
    `Qwen2 of FastVLM-0.5B (24 layers, random weights), prompt ${promptTokens} tokens, ${decodeTokens} decoded; adapter: ${adapter}`,
  );
  console.log(
    `PyTorch: ${torch ? `${torch.version}, ${torch.threads} threads, transformers' Qwen2ForCausalLM (sdpa) on the same weights` : 'not run'}; medians of ${runs} runs after a warm-up\n`,
  );
  console.log(
    formatTable(['decoder', 'prefill ms (median)', 'decode ms/token min / median', 'tokens/s (median)'], rows),
  );
  if (torch) {
    for (const dtype of dtypes) {
      console.log(
        `ours ${dtype} / PyTorch: prefill ${(ours[dtype].prefill.medianMs / torch.prefill.medianMs).toFixed(2)}, decode ${(ours[dtype].decode.medianMs / torch.decode.medianMs).toFixed(2)}`,
      );
    }
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `error: ${error.message}` : error);
  process.exit(1);
});

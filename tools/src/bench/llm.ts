/**
 * `npm run bench:llm`: the Qwen2 decoder of FastVLM-0.5B (24 layers, random weights in Apple's layout)
 * on the current adapter — prefill time and decode ms/token — then transformers' Qwen2 on the same
 * weights on this machine's CPU (fp32, 2 threads), side by side in one run.
 *
 *   node tools/dist/bench/llm.js [--model DIR] [--dtype f16|int8|int4|f32 ...] [--prompt-tokens 281] [--decode-tokens 32] [--runs 2] [--no-torch] [--replay-ab] [--profile STEPS]
 *
 * --replay-ab: each run is done twice in turn, with decode steps replayed from a recording (the
 * default, qwen2 decode-steps.ts) and with every step run through the model, and both are reported.
 *
 * --profile STEPS: after the runs, STEPS more decode steps of each side profiled (ours: every dispatch
 * timed alone on the GPU's clock; PyTorch: torch.profiler), shown per part of the layer
 * (decode-parts.ts) with the weights each part streams and the rate.
 *
 * Without --model, a random 0.5b checkpoint is written once to .cache/bench-0.5b (~1.2 GB).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeRandomCheckpoint } from '../checkpoint/random-checkpoint.js';
import { generateTokens, loadQwen2, type ModelDType, type Qwen2Config } from '@fastvlm/qwen2';
import { createDevice, type Device } from '@fastvlm/tensor';
import {
  DECODE_PARTS,
  ourDecodeParts,
  torchDecodeParts,
  type DecodeBreakdown,
  type TorchProfiledOp,
} from './decode-parts.js';
import { formatMs, formatRate, formatTable } from './table.js';
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

/** A decode step's parts from a profile of `steps` steps after the prompt (replay is off while profiling). */
async function profileDecode(
  model: Awaited<ReturnType<typeof loadQwen2>>,
  ids: number[],
  steps: number,
): Promise<DecodeBreakdown> {
  const device = model.device;
  let count = 0;
  const options = { maxNewTokens: steps + 1, stopTokenIds: [] };
  for await (const _token of generateTokens(model, { ids }, options)) {
    if (++count === 1) {
      device.beginProfile();
      device.markProfile('decode');
    } else if (count === steps + 1) {
      const profile = await device.endProfile();
      const kernels = profile.kernels.filter((k) => k.section === 'decode');
      return ourDecodeParts(model.config, kernels, steps);
    }
  }
  throw new Error(`the profiled generation stopped after ${count} tokens`);
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
  profileSteps: number,
): Promise<{ timings: LlmTiming[]; parts?: DecodeBreakdown; config: Qwen2Config }> {
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
  const parts = profileSteps > 0 ? await profileDecode(model, ids, profileSteps) : undefined;
  model.dispose();
  const timings = samples.map((s) => ({ prefill: summarise(s.prefill), decode: summarise(s.decode) }));
  return { timings, parts, config: model.config };
}

function timeTorch(
  folder: string,
  promptTokens: number,
  decodeTokens: number,
  runs: number,
  profileSteps: number,
): (LlmTiming & { version: string; threads: number; profile?: { steps: number; ops: TorchProfiledOp[] } }) | undefined {
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
    ...(profileSteps > 0 ? ['--profile-steps', String(profileSteps)] : []),
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
    decodeProfile?: { steps: number; ops: TorchProfiledOp[] };
  };
  return {
    prefill: summarise(parsed.prefillMs),
    decode: summarise(parsed.decodeMsPerToken),
    version: parsed.torch,
    threads: parsed.threads,
    profile: parsed.decodeProfile,
  };
}

async function main(): Promise<void> {
  const folder = resolve(arg('--model', join(ROOT, '.cache/bench-0.5b')));
  const dtypes = arg('--dtype', 'f16,int8').split(',') as ModelDType[];
  const promptTokens = Number(arg('--prompt-tokens', '281'));
  const decodeTokens = Number(arg('--decode-tokens', '32'));
  const runs = Number(arg('--runs', '2'));
  const profileSteps = Number(arg('--profile', '0'));
  if (!existsSync(join(folder, 'model.safetensors'))) {
    process.stderr.write(`writing a random-weight FastVLM-0.5B checkpoint to ${folder} ...\n`);
    await writeRandomCheckpoint(folder, { preset: '0.5b' });
  }
  const device = await createDevice();
  const rows: string[][] = [];
  const ours: Record<string, LlmTiming> = {};
  const parts: Record<string, DecodeBreakdown> = {};
  let config: Qwen2Config | undefined;
  const replayModes = process.argv.includes('--replay-ab') ? [true, false] : [true];
  for (const dtype of dtypes) {
    const measured = await timeOurs(device, folder, dtype, promptTokens, decodeTokens, runs, replayModes, profileSteps);
    const timings = measured.timings;
    ours[dtype] = timings[0];
    config = measured.config;
    if (measured.parts) parts[dtype] = measured.parts;
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
  const torch = process.argv.includes('--no-torch')
    ? undefined
    : timeTorch(folder, promptTokens, decodeTokens, runs, profileSteps);
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
  if (profileSteps > 0 && config) {
    const columns: [string, DecodeBreakdown, number][] = dtypes.map((d) => [
      `ours ${d}`,
      parts[d],
      ours[d].decode.minMs,
    ]);
    if (torch?.profile) {
      const torchParts = torchDecodeParts(config, torch.profile.ops, torch.profile.steps, torch.decode.minMs);
      columns.push(['PyTorch fp32', torchParts, torch.decode.minMs]);
    }
    console.log(`\n${formatDecodeParts(columns, profileSteps)}`);
  }
}

/** Per part: ms per step and the rate at which its weights stream, one column pair per configuration. */
function formatDecodeParts(columns: readonly [string, DecodeBreakdown, number][], steps: number): string {
  const header = ['part of a decode step', ...columns.flatMap(([name]) => [`${name} ms`, `${name} weights`])];
  const rows = DECODE_PARTS.map((part) => [
    part,
    ...columns.flatMap(([, breakdown]) => {
      const { ms, weightBytes } = breakdown[part];
      return [
        formatMs(ms),
        weightBytes > 0 ? `${(weightBytes / 1e6).toFixed(0)} MB, ${formatRate(weightBytes / ms / 1e6, 'GB/s')}` : '-',
      ];
    }),
  ]);
  const sum = (b: DecodeBreakdown) => DECODE_PARTS.reduce((s, p) => s + b[p].ms, 0);
  rows.push(['sum of the parts', ...columns.flatMap(([, b]) => [formatMs(sum(b)), ''])]);
  rows.push(['decode ms/token (timed runs, min)', ...columns.flatMap(([, , wall]) => [formatMs(wall), ''])]);
  return [
    `A decode step by part, ${steps} profiled steps after the prompt: ours each dispatch alone on the GPU's clock, PyTorch torch.profiler's inclusive CPU time (its 'the rest' is the timed step minus the profiled ops)`,
    '',
    formatTable(header, rows),
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `error: ${error.message}` : error);
  process.exit(1);
});

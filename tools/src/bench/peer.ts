/**
 * `npm run bench:peer`: the same random-weight FastVLM-0.5B checkpoint run by us and, right after in
 * the same process, by ONNX Runtime Web (the runtime transformers.js uses) on the same Dawn adapter
 * (its WebGPU execution provider) and on the CPU (its WebAssembly provider), with the outputs compared
 * so that both ran the same computation.
 *
 *   node tools/dist/bench/peer.js [--model DIR] [--size 256] [--parts tower,prefill,decode]
 *       [--providers webgpu,wasm] [--ort webgpu|jsep] [--runs 2] [--ort-runs 1] [--dtype f16|f32]
 *       [--positions 280] [--threads 1] [--json]
 *
 * Parts: `tower` is FastViTHD on a --size x --size image (any multiple of 64: the same weights and the
 * same work per pixel as Apple's 1024); `prefill` is the Qwen2 decoder over --positions prompt ids
 * (280 = FastVLM-0.5B's prompt at 1024: 256 image tokens + 24 text) to the last logits; `decode` is one
 * step after it through the KV cache. The ONNX graphs come from our PyTorch reference
 * (tools/python/export_onnx.py, fp32: the checkpoint's f16 values exactly), made once per checkpoint
 * under .cache/peer-onnx/.
 *
 * Bounded time: ORT-Web's WebGPU EP on lavapipe took ~27 s warm for the tower at 256 px (235 s for
 * its first run, which compiles its pipelines): the default is 256 px and one warm run; --size 1024
 * is ~16x the tower's work. Each ORT figure is one process's own first run and its warm runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fastVitHdConfig, loadFastVitHd } from '@fastvlm/fastvithd';
import { writeRandomCheckpoint } from '../checkpoint/random-checkpoint.js';
import { loadQwen2, type ModelDType } from '@fastvlm/qwen2';
import { createDevice, SafetensorsCheckpoint, Tensor, type Device } from '@fastvlm/tensor';
import { keepingAlive, loadOrt, type OrtBuild, type OrtProvider, type OrtTensor } from './peer-ort.js';
import { formatMs, formatTable } from './table.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const PARTS = ['tower', 'prefill', 'decode'] as const;
type Part = (typeof PARTS)[number];
/** The token fed to the decode step. */
const DECODE_TOKEN = 17;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

function positiveInteger(name: string, fallback: string): number {
  const value = Number(arg(name, fallback));
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be an integer >= 1`);
  return value;
}

/** The same pseudo-random ids as tools/python/export_onnx.py and bench_llm_torch.py. */
function promptIds(count: number, vocab: number): number[] {
  return Array.from({ length: count }, (_, i) => (i * 7919 + 13) % (vocab - 1000));
}

/** A deterministic test pattern in [0, 1), channels-last [S, S, 3]. */
function pixelPattern(size: number): Float32Array {
  return Float32Array.from({ length: size * size * 3 }, (_, i) => ((i * 2654435761) % 1000) / 1000);
}

/** [S, S, 3] -> [1, 3, S, S] */
function channelsFirst(pixels: Float32Array, size: number): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let p = 0; p < size * size; p++) for (let c = 0; c < 3; c++) out[c * size * size + p] = pixels[p * 3 + c];
  return out;
}

interface Timed {
  /** The first run, pipeline compiles included. */
  firstMs: number;
  /** Warm runs. */
  samples: number[];
}

interface PartResult {
  ours: Timed;
  peer: Partial<Record<OrtProvider, (Timed & { sessionMs: number; maxRelDiff: number; top1?: boolean }) | string>>;
}

interface OursOutputs {
  tower?: Float32Array;
  prefill?: Float32Array;
  decode?: Float32Array;
}

async function timeRuns<T>(runs: number, run: () => Promise<T>): Promise<{ timed: Timed; output: T }> {
  let started = performance.now();
  let output = await run();
  const firstMs = performance.now() - started;
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    started = performance.now();
    output = await run();
    samples.push(performance.now() - started);
  }
  return { timed: { firstMs, samples }, output };
}

async function runOurs(
  device: Device,
  folder: string,
  parts: readonly Part[],
  options: { size: number; positions: number; dtype: ModelDType; runs: number },
): Promise<{ timings: Partial<Record<Part, Timed>>; outputs: OursOutputs }> {
  const timings: Partial<Record<Part, Timed>> = {};
  const outputs: OursOutputs = {};
  const { size, positions, runs } = options;
  if (parts.includes('tower')) {
    const checkpoint = await SafetensorsCheckpoint.open(folder);
    const tower = await loadFastVitHd(device, checkpoint, {
      config: fastVitHdConfig(size),
      dtype: options.dtype === 'int8' ? 'int8' : options.dtype === 'f32' ? 'f32' : 'f16',
    });
    await checkpoint.close();
    const pixels = Tensor.fromArray(device, pixelPattern(size), [size, size, 3], 'f32');
    const { timed, output } = await timeRuns(runs, async () => {
      const features = tower.encode(pixels);
      const values = await features.toFloat32();
      features.dispose();
      return values;
    });
    timings.tower = timed;
    outputs.tower = output;
    pixels.dispose();
    tower.dispose();
    process.stderr.write(
      `  ours tower ${size}: first ${formatMs(timed.firstMs)} ms, warm ${timed.samples.map(formatMs).join(', ')} ms\n`,
    );
  }
  if (parts.includes('prefill') || parts.includes('decode')) {
    const llm = await loadQwen2(device, folder, { dtype: options.dtype });
    const cache = llm.createCache(positions + 1);
    const ids = promptIds(positions, llm.config.vocabSize);
    const prefill = await timeRuns(runs, async () => {
      const logits = llm.forward({ ids }, cache, 0, 'last');
      const values = await logits.toFloat32();
      logits.dispose();
      return values;
    });
    timings.prefill = prefill.timed;
    outputs.prefill = prefill.output;
    process.stderr.write(
      `  ours prefill ${positions}: first ${formatMs(prefill.timed.firstMs)} ms, warm ${prefill.timed.samples.map(formatMs).join(', ')} ms\n`,
    );
    if (parts.includes('decode')) {
      const decode = await timeRuns(Math.max(runs, 3), async () => {
        const logits = llm.forward({ ids: [DECODE_TOKEN] }, cache, positions, 'last');
        const values = await logits.toFloat32();
        logits.dispose();
        return values;
      });
      timings.decode = decode.timed;
      outputs.decode = decode.output;
    }
    cache.dispose();
    llm.dispose();
  }
  return { timings, outputs };
}

/** Makes the ONNX graphs this run needs (once per checkpoint, size and prompt length). */
function ensureExports(folder: string, parts: readonly Part[], size: number, positions: number): string {
  const weights = statSync(join(folder, 'model.safetensors'));
  const dir = join(ROOT, '.cache/peer-onnx', `${Math.round(weights.mtimeMs)}-${weights.size}`);
  const file: Record<Part, string> = {
    tower: `tower-${size}.onnx`,
    prefill: `prefill-${positions}.onnx`,
    decode: `decode-${positions}.onnx`,
  };
  const missing = parts.filter((part) => !existsSync(join(dir, `${file[part]}.data`)));
  if (missing.length === 0) return dir;
  const python = process.env.FASTVLM_PYTHON ?? join(ROOT, '.venv/bin/python');
  const args = [
    join(ROOT, 'tools/python/export_onnx.py'),
    folder,
    '--out',
    dir,
    '--parts',
    missing.join(','),
    '--image-size',
    String(size),
    '--positions',
    String(positions),
  ];
  process.stderr.write(`exporting ${missing.join(', ')} to ONNX (once): ${python} ${args.join(' ')}\n`);
  const result = spawnSync(python, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) throw new Error(`tools/python/export_onnx.py failed with status ${String(result.status)}`);
  return dir;
}

async function openSession(
  ort: Awaited<ReturnType<typeof loadOrt>>,
  dir: string,
  name: string,
  provider: OrtProvider,
): Promise<Awaited<ReturnType<typeof ort.InferenceSession.create>>> {
  const [model, data] = await Promise.all([readFile(join(dir, name)), readFile(join(dir, `${name}.data`))]);
  return ort.InferenceSession.create(model, {
    executionProviders: [provider],
    externalData: [{ path: `${name}.data`, data }],
  });
}

/** max |a - b| over max |a| */
function relativeDifference(ours: Float32Array, theirs: Float32Array): number {
  if (ours.length !== theirs.length) return Number.NaN;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ours.length; i++) {
    diff = Math.max(diff, Math.abs(ours[i] - theirs[i]));
    scale = Math.max(scale, Math.abs(ours[i]));
  }
  return diff / scale;
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

async function runPeer(
  ort: Awaited<ReturnType<typeof loadOrt>>,
  provider: OrtProvider,
  dir: string,
  parts: readonly Part[],
  ours: OursOutputs,
  options: { size: number; positions: number; runs: number; vocab: number },
): Promise<PartResult['peer'][OrtProvider][]> {
  const { size, positions, runs } = options;
  const results: PartResult['peer'][OrtProvider][] = [];
  const compare = (part: Part, values: Float32Array): { maxRelDiff: number; top1?: boolean } => {
    const reference = ours[part];
    if (!reference) return { maxRelDiff: Number.NaN };
    const maxRelDiff = relativeDifference(reference, values);
    return part === 'tower' ? { maxRelDiff } : { maxRelDiff, top1: argmax(reference) === argmax(values) };
  };
  const asFloat = (t: OrtTensor): Float32Array => t.data as Float32Array;
  let cache: Record<string, OrtTensor> = {};
  for (const part of parts) {
    try {
      let started = performance.now();
      const name = part === 'tower' ? `tower-${size}.onnx` : `${part}-${positions}.onnx`;
      const session = await openSession(ort, dir, name, provider);
      const sessionMs = performance.now() - started;
      let feeds: Record<string, OrtTensor>;
      if (part === 'tower') {
        const pixels = channelsFirst(pixelPattern(size), size);
        feeds = { pixel_values: new ort.Tensor('float32', pixels, [1, 3, size, size]) };
      } else if (part === 'prefill') {
        const ids = BigInt64Array.from(promptIds(positions, options.vocab).map(BigInt));
        feeds = { input_ids: new ort.Tensor('int64', ids, [1, positions]) };
      } else {
        feeds = { input_ids: new ort.Tensor('int64', BigInt64Array.of(BigInt(DECODE_TOKEN)), [1, 1]) };
        for (const [key, value] of Object.entries(cache)) feeds[key.replace('present', 'past')] = value;
      }
      const output = part === 'tower' ? 'features' : 'logits';
      started = performance.now();
      let result = await session.run(feeds);
      const firstMs = performance.now() - started;
      const samples: number[] = [];
      for (let i = 0; i < (part === 'decode' ? Math.max(runs, 3) : runs); i++) {
        started = performance.now();
        result = await session.run(feeds);
        samples.push(performance.now() - started);
      }
      if (part === 'prefill')
        cache = Object.fromEntries(Object.entries(result).filter(([key]) => key.startsWith('present.')));
      await session.release();
      results.push({ sessionMs, firstMs, samples, ...compare(part, asFloat(result[output])) });
      process.stderr.write(
        `  ORT-Web ${provider} ${part}: session ${formatMs(sessionMs)} ms, first ${formatMs(firstMs)} ms, warm ${samples.map(formatMs).join(', ')} ms\n`,
      );
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      process.stderr.write(`  ORT-Web ${provider} ${part} failed: ${message}\n`);
      results.push(`failed: ${message}`);
    }
  }
  return results;
}

async function main(): Promise<void> {
  const folder = resolve(arg('--model', join(ROOT, '.cache/bench-0.5b')));
  const size = positiveInteger('--size', '256');
  const positions = positiveInteger('--positions', '280');
  const runs = positiveInteger('--runs', '2');
  const ortRuns = positiveInteger('--ort-runs', '1');
  const threads = positiveInteger('--threads', '1');
  const dtype = arg('--dtype', 'f16') as ModelDType;
  const build = arg('--ort', 'webgpu') as OrtBuild;
  const parts = arg('--parts', 'tower,prefill,decode').split(',') as Part[];
  const providers = arg('--providers', 'webgpu,wasm').split(',') as OrtProvider[];
  if (size % 64 !== 0) throw new Error(`--size must be a multiple of 64, got ${size}`);
  if (!['f16', 'f32'].includes(dtype)) throw new Error(`--dtype must be f16 or f32 (the graphs are fp32)`);
  if (!['webgpu', 'jsep'].includes(build)) throw new Error(`--ort must be webgpu or jsep, got ${build}`);
  for (const part of parts) if (!PARTS.includes(part)) throw new Error(`unknown part '${part}' in --parts`);
  for (const p of providers) if (p !== 'webgpu' && p !== 'wasm') throw new Error(`unknown provider '${p}'`);
  if (parts.includes('decode') && !parts.includes('prefill'))
    throw new Error('--parts decode needs prefill (the step reads the cache the prefill wrote)');
  const ordered = PARTS.filter((part) => parts.includes(part));

  if (!existsSync(join(folder, 'model.safetensors'))) {
    process.stderr.write(`writing a random-weight FastVLM-0.5B checkpoint (Apple's layout) to ${folder} ...\n`);
    await writeRandomCheckpoint(folder, { preset: '0.5b', seed: 0 });
  }
  const dir = ensureExports(folder, ordered, size, positions);
  const device = await createDevice();
  process.stderr.write(`ours (${dtype} weights) on ${device.name}:\n`);
  const ours = await runOurs(device, folder, ordered, { size, positions, dtype, runs });
  const vocab = (JSON.parse(await readFile(join(folder, 'config.json'), 'utf8')) as { vocab_size: number }).vocab_size;

  // ORT-Web after ours, in the same process, on the same adapter.
  const ort = await loadOrt(build, { gpu: device.gpu, adapter: device.adapter, device: device.gpuDevice }, threads);
  const peer: Partial<Record<OrtProvider, PartResult['peer'][OrtProvider][]>> = {};
  for (const provider of providers) {
    process.stderr.write(`ONNX Runtime Web ${ort.env.versions.web ?? ''} (${build} build), ${provider} EP:\n`);
    peer[provider] = await keepingAlive(() =>
      runPeer(ort, provider, dir, ordered, ours.outputs, { size, positions, runs: ortRuns, vocab }),
    );
  }

  const report = {
    adapter: device.name,
    ort: { version: ort.env.versions.web, build, threads },
    size,
    positions,
    dtype,
    parts: Object.fromEntries(
      ordered.map((part, i) => [
        part,
        { ours: ours.timings[part], peer: Object.fromEntries(providers.map((p) => [p, peer[p]?.[i]])) },
      ]),
    ),
  };
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(report));
    process.exit(0);
  }
  console.log(
    `${folder.startsWith(ROOT) ? folder.slice(ROOT.length + 1) : folder}: tower at ${size}x${size}, prefill of ${positions} positions, one decode step after it; adapter ${device.name}`,
  );
  console.log(
    `ours: ${dtype} weights; ONNX Runtime Web ${ort.env.versions.web ?? ''} (${build} build), fp32 graphs from tools/python/export_onnx.py, WebGPU EP on the same adapter, WASM EP with ${threads} threads\n`,
  );
  const min = (t: Timed): number => Math.min(...t.samples);
  const header = ['part', 'ours first ms', 'ours warm ms'];
  for (const p of providers) header.push(`ORT ${p} first ms`, `ORT ${p} warm ms`, `${p} / ours`, `${p} max diff`);
  const rows = ordered.map((part, i) => {
    const mine = ours.timings[part];
    const row = [part, mine ? formatMs(mine.firstMs) : '-', mine ? formatMs(min(mine)) : '-'];
    for (const p of providers) {
      const r = peer[p]?.[i];
      if (r === undefined || typeof r === 'string') row.push(r ?? '-', '-', '-', '-');
      else
        row.push(
          formatMs(r.firstMs),
          formatMs(min(r)),
          mine ? (min(r) / min(mine)).toFixed(2) : '-',
          `${r.maxRelDiff.toExponential(1)}${r.top1 === undefined ? '' : r.top1 ? ' top1=' : ' top1!='}`,
        );
    }
    return row;
  });
  console.log(formatTable(header, rows));
  console.log(
    '\n(warm: minimum over the warm runs; first: the first run in this process, pipeline compiles included; ' +
      "max diff: max |ORT - ours| / max |ours| over the tower's features or the logits; top1=: the same argmax token)",
  );
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `error: ${error.message}` : error);
  process.exit(1);
});

/**
 * `npm run bench:int8`: how far FastVLM with int8 / int4 (and f16) weights is from the same
 * checkpoint in f32, on one image and prompt:
 *
 * - cosine and relative max error of the logits at the last prompt position;
 * - top-1 agreement over a 64-token greedy run: the f32 model's tokens are fed to the other model
 *   (teacher forcing) and its argmax at each of the 64 steps is compared with f32's token;
 * - the first step at which the other model's own greedy run leaves f32's (none: all 64 equal);
 * - the smallest top-1 margin of f32's run (logit of its token minus the runner-up): how close a
 *   call each step was, i.e. how much error a step could absorb.
 *
 * and, computed from the module trees (no loading), the weight memory of FastVLM-0.5B, -1.5B and -7B
 * per dtype (weight-memory.ts). `--memory-only` prints that table alone.
 *
 *   node tools/dist/bench/int8-accuracy.js [--model DIR] [--image FILE] [--tokens 64] [--dtype int4,int8,int8/int8,f16] [--json] [--memory-only]
 *
 * Each --dtype entry is the LLM's dtype, optionally /the vision tower's (int8/int8: both int8).
 *
 * Without --model: the random FastVLM-0.5B checkpoint of `npm run bench` (.cache/bench-0.5b).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FastVLM } from '@fastvlm/llava';
import { writeRandomCheckpoint } from '../checkpoint/random-checkpoint.js';
import type { VisionDType } from '@fastvlm/fastvithd';
import type { ModelDType } from '@fastvlm/qwen2';
import type { Tensor } from '@fastvlm/tensor';
import { DEFAULT_PROMPT } from '../cli/commands/describe.js';
import { sampleImagePath } from '../demo/demo-assets.js';
import { formatTable } from './table.js';
import { RELEASES, weightMemory, type Release } from './weight-memory.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

interface Scores {
  /** Logits at the last prompt position [vocab]. */
  last: Float32Array;
  /** Argmax after each of the reference tokens fed back, for steps 1 .. n-1. */
  forced: number[];
  /** Per step 0 .. n-1: the top logit minus the runner-up. */
  margins: number[];
}

export interface AccuracyReport {
  dtype: string;
  lastLogitsCosine: number;
  /** max |other - f32| / max |f32| over the last-position logits. */
  lastLogitsMaxRelError: number;
  /** Fraction of the steps whose argmax (f32's tokens fed back) equals f32's token. */
  top1Agreement: number;
  /** First step (0-based) where the free greedy run differs from f32's; null if none did. */
  firstDivergence: number | null;
  tokens: number;
}

/** Per row: the argmax and the gap between the top value and the runner-up. */
function topRows(values: Float32Array, width: number): { token: number; margin: number }[] {
  const out: { token: number; margin: number }[] = [];
  for (let row = 0; row * width < values.length; row++) {
    let best = 0;
    let first = -Infinity;
    let second = -Infinity;
    for (let i = 0; i < width; i++) {
      const v = values[row * width + i];
      if (v > first) {
        second = first;
        first = v;
        best = i;
      } else if (v > second) second = v;
    }
    out.push({ token: best, margin: first - second });
  }
  return out;
}

/** Last-position logits, then the argmax after each of `reference[0 .. n-2]` is fed back. */
async function score(
  model: FastVLM,
  ids: readonly number[],
  image: string,
  reference: readonly number[],
): Promise<Scores> {
  const pixels = await model.preprocess(image);
  const { embeds } = await model.embedInputs(ids, pixels);
  const promptLength = embeds.shape[0];
  const cache = model.llm.createCache(promptLength + reference.length);
  const owned: Tensor[] = [embeds];
  try {
    const lastLogits = model.llm.forward({ embeds }, cache, 0, 'last'); // [1, vocab]
    owned.push(lastLogits);
    const last = await lastLogits.read();
    const fed = reference.slice(0, -1);
    const logits = model.llm.forward({ ids: fed }, cache, promptLength, 'all'); // [n - 1, vocab]
    owned.push(logits);
    const rows = [...topRows(last, last.length), ...topRows(await logits.read(), last.length)];
    return { last, forced: rows.slice(1).map((r) => r.token), margins: rows.map((r) => r.margin) };
  } finally {
    for (const t of owned) t.dispose();
    cache.dispose();
  }
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

function maxRelError(a: Float32Array, reference: Float32Array): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - reference[i]));
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  return err / scale;
}

const MIB = 2 ** 20;

/** The computed weight memory table: per release, the decoder + projector in f16 / int8 / int4. */
function memoryTable(): { rows: string[][]; json: Record<string, Record<string, ReturnType<typeof weightMemory>>> } {
  const json: Record<string, Record<string, ReturnType<typeof weightMemory>>> = {};
  const rows: string[][] = [];
  for (const release of Object.keys(RELEASES) as Release[]) {
    const by = {
      f16: weightMemory(release, 'f16'),
      int8: weightMemory(release, 'int8'),
      int4: weightMemory(release, 'int4'),
    };
    json[release] = by;
    const mib = (bytes: number): string => `${(bytes / MIB).toFixed(0)}`;
    rows.push([
      release,
      `${mib(by.f16.llmAndProjector)} / ${mib(by.int8.llmAndProjector)} / ${mib(by.int4.llmAndProjector)}`,
      `${mib(by.f16.decoderLinears)} / ${mib(by.int8.decoderLinears)} / ${mib(by.int4.decoderLinears)}`,
      `${mib(by.int8.perDecodeToken)} / ${mib(by.int4.perDecodeToken)} (${(by.int4.perDecodeToken / by.int8.perDecodeToken).toFixed(2)}x)`,
      mib(by.f16.tower),
      `${mib(by.int8.llmAndProjector + by.f16.tower)} / ${mib(by.int4.llmAndProjector + by.f16.tower)}`,
    ]);
  }
  return { rows, json };
}

const MEMORY_HEADER = [
  'model',
  'decoder + projector MiB: f16 / int8 / int4',
  'decoder linears MiB: f16 / int8 / int4',
  'weights read per decode token MiB: int8 / int4',
  'tower f16 MiB',
  'all weights MiB (f16 tower): int8 / int4',
];

async function main(): Promise<void> {
  const memory = memoryTable();
  if (process.argv.includes('--memory-only')) {
    if (process.argv.includes('--json')) console.log(JSON.stringify({ memory: memory.json }));
    else console.log(formatTable(MEMORY_HEADER, memory.rows));
    return;
  }
  const folder = resolve(arg('--model', join(ROOT, '.cache/bench-0.5b')));
  const tokens = Number(arg('--tokens', '64'));
  const configs = arg('--dtype', 'int4,int8,int8/int8,f16')
    .split(',')
    .map((entry) => {
      const [dtype, vision] = entry.split('/') as [ModelDType, VisionDType | undefined];
      return { dtype, visionDtype: vision ?? (dtype === 'f32' ? 'f32' : 'f16') };
    });
  if (!existsSync(join(folder, 'model.safetensors'))) {
    process.stderr.write(`writing a random-weight FastVLM-0.5B checkpoint (Apple's layout) to ${folder} ...\n`);
    await writeRandomCheckpoint(folder, { preset: '0.5b', seed: 0 });
  }
  const image = resolve(arg('--image', await sampleImagePath()));
  const request = { image, prompt: DEFAULT_PROMPT, maxNewTokens: tokens, temperature: 0, stopTokenIds: [] };

  process.stderr.write('f32 reference: greedy run...\n');
  const reference = await FastVLM.load(folder, { dtype: 'f32' });
  const run = await reference.generate(request);
  const ids = run.promptTokenIds;
  const refScores = await score(reference, ids, image, run.tokenIds);
  const smallestMargin = Math.min(...refScores.margins);
  reference.dispose();

  const reports: AccuracyReport[] = [];
  for (const { dtype, visionDtype } of configs) {
    process.stderr.write(`${dtype} (vision ${visionDtype}): scoring against f32...\n`);
    const model = await FastVLM.load(folder, { dtype, visionDtype });
    try {
      const scores = await score(model, ids, image, run.tokenIds);
      const own = await model.generate(request);
      const predicted = [topRows(scores.last, scores.last.length)[0].token, ...scores.forced];
      const agree = predicted.filter((token, i) => token === run.tokenIds[i]).length;
      const diverge = own.tokenIds.findIndex((token, i) => token !== run.tokenIds[i]);
      reports.push({
        dtype: `${dtype} (vision tower ${visionDtype})`,
        lastLogitsCosine: cosine(scores.last, refScores.last),
        lastLogitsMaxRelError: maxRelError(scores.last, refScores.last),
        top1Agreement: agree / run.tokenIds.length,
        firstDivergence: diverge < 0 ? null : diverge,
        tokens: run.tokenIds.length,
      });
      process.stderr.write(`${JSON.stringify(reports[reports.length - 1])}\n`); // kept if a later config fails
    } finally {
      model.dispose();
    }
  }
  if (process.argv.includes('--json')) {
    console.log(
      JSON.stringify({
        model: folder,
        image,
        tokens: run.tokenIds.length,
        reports,
        f32SmallestMargin: smallestMargin,
        memory: memory.json,
      }),
    );
    return;
  }
  console.log(
    `${folder}, ${image}, prompt ${ids.length} ids + image; ${run.tokenIds.length} greedy tokens of the f32 model as reference`,
  );
  console.log(`f32's smallest top-1 margin over those steps: ${smallestMargin.toFixed(4)} (logit units)\n`);
  const rows = reports.map((r) => [
    r.dtype,
    r.lastLogitsCosine.toFixed(6),
    r.lastLogitsMaxRelError.toExponential(2),
    `${(100 * r.top1Agreement).toFixed(1)}% (${Math.round(r.top1Agreement * r.tokens)}/${r.tokens})`,
    r.firstDivergence === null ? `none in ${r.tokens}` : String(r.firstDivergence),
  ]);
  console.log(
    formatTable(
      ['weights', 'cos(last logits)', 'max rel err', 'top-1 agreement (forced)', 'first divergence (free)'],
      rows,
    ),
  );
  console.log('\nWeight memory on the GPU, computed from the module trees (int4: embedding and LM head int8):\n');
  console.log(formatTable(MEMORY_HEADER, memory.rows));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `error: ${error.message}` : error);
  process.exit(1);
});

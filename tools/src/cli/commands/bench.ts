/**
 * `fastvlm bench [--model DIR] [--image IMAGE] [--runs N] [--dtype f32|f16|int8|int4] [--vision-dtype f32|f16|int8] [--max-new-tokens N] [--json]`:
 * times the whole pipeline (preprocess, vision, projector, prefill, first token, decode) over one
 * warm-up (which compiles the pipelines) and N measured runs with greedy decoding, and reports the
 * minimum and median of each figure with the peak memory. Without --model: the tiny random-weight
 * demo model; without --image: the repository's test card.
 */
import { loadImage } from '@fastvlm/fastvithd';
import { FastVLM, type GenerateResult } from '@fastvlm/llava';
import type { DispatchProfile } from '@fastvlm/tensor';
import { shaderCacheForProcess, type ShaderCacheSetting } from '@fastvlm/tensor/node';
import type { Command } from 'commander';
import { formatProfile } from '../../bench/profile-report.js';
import { formatMs, formatTable } from '../../bench/table.js';
import { DEMO_MODEL_NOTE, demoModelFolder, sampleImagePath } from '../../demo/demo-assets.js';
import { integerFlag } from '../number-flags.js';
import { dtypeOption, visionDtypeOption, weightDtypes, type WeightFlags } from '../weight-options.js';
import { outputOf, type CliOutput } from '../output.js';
import { formatBytes } from '../progress.js';
import { DEFAULT_PROMPT } from './describe.js';

export interface BenchFlags extends WeightFlags {
  readonly model?: string;
  readonly image?: string;
  readonly runs?: string;
  readonly maxNewTokens?: string;
  readonly json?: boolean;
  readonly profile?: boolean;
  readonly ignoreEos?: boolean;
}

/** The figures measured in one run; null where the run could not measure it (e.g. fewer than two tokens). */
export interface RunFigures {
  preprocessMs: number;
  visionMs: number | null;
  projectorMs: number | null;
  prefillMs: number | null;
  ttftMs: number | null;
  decodeMsPerToken: number | null;
  /** The process's resident-set high-water mark so far. */
  peakRssBytes: number;
  /** The most bytes live tensors held on the GPU during the run (weights included). */
  peakGpuBytes: number;
  /** Tokens generated (below --max-new-tokens when the model emitted a stop token). */
  newTokens: number;
}

type FigureName = Exclude<keyof RunFigures, 'newTokens'>;
const FIGURES: readonly FigureName[] = [
  'preprocessMs',
  'visionMs',
  'projectorMs',
  'prefillMs',
  'ttftMs',
  'decodeMsPerToken',
  'peakRssBytes',
  'peakGpuBytes',
];

/** What `--json` prints: the minimum of each figure over the runs, the medians under `runs`. */
export interface BenchReport extends Record<FigureName, number | null> {
  /**
   * What a fresh process costs: from this process's start (Node's time origin) to the model loaded
   * (`coldLoadMs`) and to the first token of its first generation (`coldMs`, the warm-up run: every
   * pipeline compiled then). Mesa's and Dawn's on-disk caches are as the machine has them.
   */
  coldMs: number | null;
  coldLoadMs: number;
  /** Where Mesa's on-disk shader cache lives for this process (see @fastvlm/tensor/node shader-cache.ts). */
  shaderCache: ShaderCacheSetting;
  /**
   * Pipelines created by the model's load (the vision tower's, warmed while the decoder loads), by
   * the warm-up run after it, and by all the measured runs: a long-lived process compiles each
   * pipeline once, so `runs` is 0 (the profiled run is not counted).
   */
  pipelines: { load: number; warmUp: number; runs: number };
  adapter: string;
  dtype: string;
  visionDtype: string;
  model: string;
  image: string;
  /** The image as read, before resizing to the tower's input. */
  imageWidth: number;
  imageHeight: number;
  /** The tower's input side (pixels). */
  inputSize: number;
  /** Positions the prompt takes in the decoder, image tokens included. */
  promptTokens: number;
  /** The prompt's ids, -200 where the image goes (what a reference implementation needs to run the same prompt). */
  promptTokenIds: number[];
  maxNewTokens: number;
  runs: { count: number; median: Record<FigureName, number | null>; newTokens: number[] };
  /**
   * The last measured run's GPU work: dispatches recorded, submits and readbacks. The run waits for
   * the GPU after the tower, the projector and the prefill (to time them), and reads each token back.
   */
  gpuWork: { dispatches: number; submits: number; readbacks: number };
  /** With --profile: every dispatch of one run (image, prompt and up to 3 decode steps), timed alone. */
  profile?: DispatchProfile;
}

export function register(program: Command): void {
  program
    .command('bench')
    .summary('time the FastVLM pipeline end to end')
    .description(
      'Run FastVLM once to warm up (compiling the GPU pipelines), then --runs times with greedy decoding, and report the minimum and median ' +
        'of each stage (preprocess, vision, projector, prefill, first token, decode per token) with the peak memory. Without --model a tiny ' +
        "random-weight demo model is used; without --image, the repository's test card.",
    )
    .option('--model <dir>', 'a FastVLM model folder (config.json, model.safetensors, tokenizer files)')
    .option('--image <file>', 'a PNG or JPEG file (default: the built-in test card)')
    .option('--runs <n>', 'measured runs after the warm-up', '3')
    .option('--max-new-tokens <n>', 'tokens to generate per run (fewer when the model stops early)', '64')
    .option('--json', 'print one JSON object instead of a table')
    .option('--ignore-eos', 'do not stop at an end token: every run decodes exactly --max-new-tokens')
    .option(
      '--profile',
      'after the runs, time every dispatch of one more run (GPU timestamps where the adapter has them) and list the top kernels',
    )
    .addOption(dtypeOption())
    .addOption(visionDtypeOption())
    .action(async (flags: BenchFlags, command: Command) => {
      await runBench(flags, outputOf(command));
    });
}

/** Benchmarks the model of `flags.model` (default: the demo model) on `flags.image` (default: the test card). */
export async function runBench(flags: BenchFlags, output: CliOutput): Promise<BenchReport> {
  const weights = weightDtypes(flags);
  const dtype = weights.dtype;
  const runs = integerFlag('--runs', flags.runs, { min: 1 }) ?? 3;
  const maxNewTokens = integerFlag('--max-new-tokens', flags.maxNewTokens, { min: 1 }) ?? 64;

  let folder = flags.model;
  if (folder === undefined) {
    output.err(DEMO_MODEL_NOTE);
    folder = await demoModelFolder(output.err);
  }
  const imagePath = flags.image ?? (await sampleImagePath());
  const source = await loadImage(imagePath);
  const model = await FastVLM.load(folder, weights);
  const coldLoadMs = performance.now(); // since the process started
  const compiledByLoad = model.device.kernels.compiled;
  try {
    const stopTokenIds = flags.ignoreEos === true ? [] : undefined;
    const request = {
      image: imagePath,
      prompt: DEFAULT_PROMPT,
      maxNewTokens,
      temperature: 0,
      profile: true,
      stopTokenIds,
    };
    output.err('warm-up run (compiles the GPU pipelines)...\n');
    const warmUpStart = performance.now();
    // As `describe` runs it: no waits between the stages.
    const warmUp = await model.generate({ ...request, profile: false });
    const coldMs = warmUp.timings.ttftMs === null ? null : warmUpStart + warmUp.timings.ttftMs;
    const compiledByWarmUp = model.device.kernels.compiled;
    const measured: RunFigures[] = [];
    let gpuWork = { dispatches: 0, submits: 0, readbacks: 0 };
    for (let run = 1; run <= runs; run++) {
      output.err(`run ${run}/${runs}...\n`);
      model.device.pool.peakLiveBytes = model.device.pool.liveBytes; // this run's peak, not the load's
      const before = { ...model.device.stats };
      const result = await model.generate(request);
      measured.push(figuresOf(result, model.device.pool.peakLiveBytes));
      const { stats } = model.device;
      gpuWork = {
        dispatches: stats.dispatches - before.dispatches,
        submits: stats.submits - before.submits,
        readbacks: stats.readbacks - before.readbacks,
      };
    }
    const report: BenchReport = {
      ...summarise(measured, Math.min),
      coldMs,
      coldLoadMs,
      shaderCache: shaderCacheForProcess(),
      pipelines: {
        load: compiledByLoad,
        warmUp: compiledByWarmUp - compiledByLoad,
        runs: model.device.kernels.compiled - compiledByWarmUp,
      },
      adapter: model.device.name,
      dtype,
      visionDtype: model.visionDtype,
      model: folder,
      image: imagePath,
      imageWidth: source.width,
      imageHeight: source.height,
      inputSize: model.config.imageSize,
      promptTokens: model.promptPositions(warmUp.promptTokenIds),
      promptTokenIds: warmUp.promptTokenIds,
      maxNewTokens,
      runs: {
        count: runs,
        median: summarise(measured, median),
        newTokens: measured.map((figures) => figures.newTokens),
      },
      gpuWork,
    };
    if (flags.profile === true) {
      output.err('profiled run...\n');
      model.device.beginProfile();
      await model.generate({ ...request, maxNewTokens: Math.min(maxNewTokens, 4), profile: false });
      report.profile = await model.device.endProfile();
    }
    output.out(flags.json === true ? `${JSON.stringify(report)}\n` : `${formatReport(report)}\n`);
    return report;
  } finally {
    model.dispose();
  }
}

function figuresOf({ timings: t, tokenIds }: GenerateResult, peakGpuBytes: number): RunFigures {
  return {
    preprocessMs: t.preprocessMs,
    visionMs: t.visionMs,
    projectorMs: t.projectorMs,
    prefillMs: t.prefillMs,
    ttftMs: t.ttftMs,
    decodeMsPerToken:
      t.decodeTokensPerSecond === null || t.decodeTokensPerSecond <= 0 ? null : 1000 / t.decodeTokensPerSecond,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    peakGpuBytes,
    newTokens: tokenIds.length,
  };
}

function median(...values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Each figure reduced over the runs that measured it (null when none did). */
function summarise(
  runs: readonly RunFigures[],
  reduce: (...values: number[]) => number,
): Record<FigureName, number | null> {
  const entries = FIGURES.map((name) => {
    const values = runs.map((run) => run[name]).filter((value): value is number => value !== null);
    return [name, values.length === 0 ? null : reduce(...values)] as const;
  });
  return Object.fromEntries(entries) as Record<FigureName, number | null>;
}

function formatReport(report: BenchReport): string {
  const show = (name: FigureName, value: number | null): string => {
    if (value === null) return '-';
    return name.endsWith('Bytes') ? formatBytes(value) : formatMs(value);
  };
  const rows = FIGURES.map((name) => [name, show(name, report[name]), show(name, report.runs.median[name])]);
  const cold = report.coldMs === null ? '-' : formatMs(report.coldMs);
  rows.push(
    ['coldMs (process start -> first token)', cold, cold],
    ['coldLoadMs (process start -> loaded)', formatMs(report.coldLoadMs), formatMs(report.coldLoadMs)],
  );
  const { shaderCache: cache, pipelines } = report;
  const cacheWords = cache.source === 'disabled' ? 'disabled' : `${cache.dir ?? "Mesa's default"} (${cache.source})`;
  const tokens = report.runs.newTokens.join(', ');
  return [
    `adapter ${report.adapter}, dtype ${report.dtype} (vision ${report.visionDtype}), image ${report.imageWidth}x${report.imageHeight} -> ${report.inputSize}x${report.inputSize}, ` +
      `prompt ${report.promptTokens} tokens, ${report.runs.count} run(s) after a warm-up, new tokens per run: ${tokens} (of ${report.maxNewTokens}); ` +
      `a run: ${report.gpuWork.dispatches} dispatches, ${report.gpuWork.submits} submits, ${report.gpuWork.readbacks} readbacks; ` +
      `pipelines created: ${pipelines.load} by the load, ${pipelines.warmUp} by the warm-up, ${pipelines.runs} by the runs; Mesa shader cache: ${cacheWords}`,
    '',
    formatTable(['figure', 'min', 'median'], rows),
    ...(report.profile ? ['', formatProfile(report.profile)] : []),
  ].join('\n');
}

/**
 * `fastvlm init-random DIR [--preset tiny|0.5b] [--layers N] [--image-size N] [--dtype float16|float32] [--seed S]`:
 * a random-weight FastVLM folder in Apple's layout (config.json, model.safetensors, tokenizer files).
 */
import {
  writeRandomCheckpoint,
  type RandomCheckpointResult,
  type RandomPreset,
  type RandomWeightDtype,
} from '../../checkpoint/random-checkpoint.js';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { integerFlag } from '../number-flags.js';
import { abortOnSignal } from '../interrupt.js';
import { checkOutputFolder } from '../../fs/output-paths.js';
import { outputOf, type CliOutput } from '../output.js';
import { formatBytes, startProgress, type Progress } from '../progress.js';

export interface InitRandomFlags {
  readonly preset?: string;
  readonly layers?: string;
  readonly imageSize?: string;
  readonly dtype?: string;
  readonly seed?: string;
  readonly quiet?: boolean;
  /** Draw a live progress bar (default: whether stderr is a terminal). */
  readonly live?: boolean;
}

export function register(program: Command): void {
  program
    .command('init-random')
    .summary("write a random-weight FastVLM model folder in Apple's layout")
    .description(
      "Write a random-weight FastVLM model folder in Apple's layout: config.json, model.safetensors (streamed tensor by tensor) " +
        "and Qwen2's tokenizer files. 'tiny': the real FastViTHD at 256 px (16 image tokens) with a 2-layer, 64-wide Qwen2 " +
        "(~270 MB in float16); '0.5b': apple/FastVLM-0.5B's shapes (~1.2 GB in float16).",
    )
    .argument('<dir>', 'folder to write (created if needed; existing files are replaced)')
    .option('--preset <preset>', "'tiny' or '0.5b'", 'tiny')
    .option('--layers <n>', "Qwen2 layers (default: the preset's)")
    .option('--image-size <n>', 'vision tower input size, a multiple of 64 (default: 256 tiny, 1024 0.5b)')
    .option('--dtype <dtype>', "'float16' or 'float32'", 'float16')
    .option('--seed <seed>', 'random seed', '0')
    .option('--quiet', 'print no progress')
    .action(async (dir: string, flags: InitRandomFlags, command: Command) => {
      await runInitRandom(dir, flags, outputOf(command));
    });
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`${name} must be ${allowed.map((a) => `'${a}'`).join(' or ')}, got '${value}'`);
  return value as T;
}

/** Writes the folder with progress on stderr and a summary line on stdout; bad flags are UsageErrors. */
export async function runInitRandom(
  dir: string,
  flags: InitRandomFlags,
  output: CliOutput,
  /** Where SIGINT/SIGTERM come from (tests pass their own emitter). */
  signals: NodeJS.EventEmitter = process,
): Promise<RandomCheckpointResult> {
  const preset = oneOf<RandomPreset>('--preset', flags.preset, ['tiny', '0.5b']) ?? 'tiny';
  const dtype = oneOf<RandomWeightDtype>('--dtype', flags.dtype, ['float16', 'float32']) ?? 'float16';
  const layers = integerFlag('--layers', flags.layers, { min: 1 });
  const imageSize = integerFlag('--image-size', flags.imageSize, { min: 64 });
  if (imageSize !== undefined && imageSize % 64 !== 0)
    throw new UsageError(`--image-size must be a multiple of 64, got ${imageSize}`);
  const seed = integerFlag('--seed', flags.seed) ?? 0;

  await checkOutputFolder('init-random', dir);
  let progress: Progress | undefined;
  let result: RandomCheckpointResult;
  try {
    result = await abortOnSignal(
      `the model folder ${dir}`,
      (signal) =>
        writeRandomCheckpoint(dir, {
          signal,
          preset,
          dtype,
          layers,
          imageSize,
          seed,
          onProgress:
            flags.quiet === true
              ? undefined
              : ({ tensor, bytesDone, bytesTotal }) => {
                  progress ??= startProgress({
                    title: 'model.safetensors',
                    total: bytesTotal,
                    unit: 'bytes',
                    writeErr: output.err,
                    live: flags.live,
                  });
                  progress.update(bytesDone, tensor);
                },
        }),
      signals,
    );
  } finally {
    progress?.stop();
  }
  const { config } = result;
  output.out(
    `wrote ${dir}: preset ${preset}, ${config.llm.numHiddenLayers} layers, ${config.visionTower} (${config.imageTokens} image tokens), ` +
      `${result.tensorCount} tensors, ${(result.elementCount / 1e6).toFixed(1)} M elements, ${dtype}, ` +
      `${formatBytes(result.fileBytes)}, seed ${seed}, ${result.seconds.toFixed(1)} s\n`,
  );
  return result;
}

/**
 * `fastvlm init-random DIR [--preset tiny|0.5b|1.5b|7b] [--layers N] [--image-size N]
 * [--dtype bfloat16|float16|float32] [--max-shard-bytes N] [--seed S]`: a random-weight FastVLM
 * folder laid out as Apple's files are (config.json, model.safetensors or shards + index, tokenizer files).
 */
import { RANDOM_PRESETS, type RandomPreset, type RandomWeightDtype } from '../../checkpoint/presets.js';
import { writeRandomCheckpoint, type RandomCheckpointResult } from '../../checkpoint/random-checkpoint.js';
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
  readonly maxShardBytes?: string;
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
      "Write a random-weight FastVLM model folder laid out exactly as Apple's files are: config.json, the checkpoint " +
        '(streamed tensor by tensor; shards + model.safetensors.index.json past 5 GB, as save_pretrained splits) and ' +
        "Qwen2's tokenizer files. '0.5b', '1.5b', '7b': apple/FastVLM-0.5B / -1.5B / -7B (bfloat16, 1.52 / 3.82 / 15.5 GB; " +
        "the tied 0.5B and 1.5B with a stored copy of the embedding as lm_head.weight, the 7B untied in 4 shards); 'tiny': " +
        'the real FastViTHD at 256 px (16 image tokens) with a 2-layer, 64-wide Qwen2 (~270 MB in float16).',
    )
    .argument('<dir>', 'folder to write (created if needed; existing files are replaced)')
    .option('--preset <preset>', RANDOM_PRESETS.map((p) => `'${p}'`).join(', '), 'tiny')
    .option('--layers <n>', "Qwen2 layers (default: the preset's)")
    .option('--image-size <n>', 'vision tower input size, a multiple of 64 (default: 256 tiny, else 1024)')
    .option('--dtype <dtype>', "'bfloat16', 'float16' or 'float32' (default: bfloat16, float16 for tiny)")
    .option('--max-shard-bytes <n>', 'open a new shard past this many bytes (default 5000000000)')
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

/** 'model.safetensors', or 'N shards + index'. */
function checkpointFiles(files: readonly string[]): string {
  const shards = files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f)).length;
  return shards === 0 ? 'model.safetensors' : `${shards} shards + model.safetensors.index.json`;
}

/** Writes the folder with progress on stderr and a summary line on stdout; bad flags are UsageErrors. */
export async function runInitRandom(
  dir: string,
  flags: InitRandomFlags,
  output: CliOutput,
  /** Where SIGINT/SIGTERM come from (tests pass their own emitter). */
  signals: NodeJS.EventEmitter = process,
): Promise<RandomCheckpointResult> {
  const preset = oneOf<RandomPreset>('--preset', flags.preset, RANDOM_PRESETS) ?? 'tiny';
  const dtype = oneOf<RandomWeightDtype>('--dtype', flags.dtype, ['bfloat16', 'float16', 'float32']);
  const layers = integerFlag('--layers', flags.layers, { min: 1 });
  const maxShardBytes = integerFlag('--max-shard-bytes', flags.maxShardBytes, { min: 1 });
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
          maxShardBytes,
          seed,
          onProgress:
            flags.quiet === true
              ? undefined
              : ({ tensor, bytesDone, bytesTotal }) => {
                  progress ??= startProgress({
                    title: 'checkpoint',
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
      `${result.tensorCount} tensors, ${(result.elementCount / 1e6).toFixed(1)} M elements, ${config.torchDtype ?? ''}, ` +
      `${formatBytes(result.fileBytes)} in ${checkpointFiles(result.files)}, seed ${seed}, ${result.seconds.toFixed(1)} s\n`,
  );
  return result;
}

/**
 * `fastvlm describe [IMAGE] [--model DIR] [--prompt TEXT] [--max-new-tokens N] [--temperature T]
 * [--top-p P] [--top-k K] [--seed S] [--dtype f32|f16|int8] [--vision-dtype f32|f16|int8] [--json] [--dump FILE] [--profile]
 * [--allow-special-tokens]`:
 * streams the model's answer about an image to stdout. Without --model: a tiny random-weight demo
 * model (said plainly on stderr); without IMAGE: the repository's test card.
 */
import { rename, rm } from 'node:fs/promises';
import { DEFAULT_MAX_NEW_TOKENS, FastVLM, dumpPipeline, type GenerateResult } from '@fastvlm/llava';
import type { TensorsToWrite } from '@fastvlm/tensor';
import { writeSafetensors } from '@fastvlm/tensor/node';
import type { Command } from 'commander';
import { DEMO_MODEL_NOTE, demoModelFolder, sampleImagePath } from '../../demo/demo-assets.js';
import { integerFlag, realFlag } from '../number-flags.js';
import { checkNamedFiles, preflightDescribe } from '../preflight.js';
import { dtypeOption, visionDtypeOption, weightDtypes, type WeightFlags } from '../weight-options.js';
import { outputOf, type CliOutput } from '../output.js';

export interface DescribeFlags extends WeightFlags {
  readonly model?: string;
  readonly prompt?: string;
  readonly maxNewTokens?: string;
  readonly temperature?: string;
  readonly topP?: string;
  readonly topK?: string;
  readonly seed?: string;
  readonly json?: boolean;
  readonly dump?: string;
  readonly profile?: boolean;
  readonly allowSpecialTokens?: boolean;
}

export const DEFAULT_PROMPT = 'Describe the image.';

export function register(program: Command): void {
  program
    .command('describe')
    .summary('describe an image with a FastVLM model')
    .description(
      'Run FastVLM on an image and stream its answer to stdout. Without --model a tiny random-weight demo model is used ' +
        "(its answers are noise: get real weights with 'fastvlm pull apple/FastVLM-0.5B'); without IMAGE, the repository's test card.",
    )
    .argument('[image]', 'a PNG or JPEG file (default: the built-in test card)')
    .option('--model <dir>', 'a FastVLM model folder (config.json, model.safetensors, tokenizer files)')
    .option('--prompt <text>', 'the question', DEFAULT_PROMPT)
    .option('--max-new-tokens <n>', 'at most this many tokens', '256')
    .option('--temperature <t>', '0 is greedy', '0')
    .option('--top-p <p>', 'nucleus sampling (1 = off)')
    .option('--top-k <k>', 'sample among the k most likely (0 = off)')
    .option('--seed <s>', 'sampling seed')
    .option('--json', 'print one JSON object {text, tokenIds, promptTokenIds, timings, adapter} instead of streaming')
    .option('--dump <file>', 'also write every intermediate (pixel_values ... prefill_logits) to a safetensors file')
    .option('--profile', 'wait for the GPU between stages to time vision, projector and prefill')
    .option(
      '--allow-special-tokens',
      'let special tokens written in --prompt (<|im_start|>, <|im_end|>, <|endoftext|>) act as control tokens; by default they are plain text',
    )
    .addOption(dtypeOption())
    .addOption(visionDtypeOption())
    .action(async (image: string | undefined, flags: DescribeFlags, command: Command) => {
      await runDescribe(image, flags, outputOf(command));
    });
}

/** Answers about `image` (default: the test card) with the model of `flags.model` (default: the demo model). */
export async function runDescribe(
  image: string | undefined,
  flags: DescribeFlags,
  output: CliOutput,
): Promise<GenerateResult & { adapter: string }> {
  const weights = weightDtypes(flags);
  const maxNewTokens = integerFlag('--max-new-tokens', flags.maxNewTokens, { min: 1 }) ?? DEFAULT_MAX_NEW_TOKENS;
  const temperature = realFlag('--temperature', flags.temperature, { min: 0 }) ?? 0;
  const topP = realFlag('--top-p', flags.topP, { min: 0, minExclusive: true, max: 1 });
  const topK = integerFlag('--top-k', flags.topK, { min: 0 });
  const seed = integerFlag('--seed', flags.seed);

  // The files named on the command line, before the demo model is written or anything loaded.
  await checkNamedFiles({ image: image === undefined ? undefined : { flag: 'image', path: image }, dump: flags.dump });
  let folder = flags.model;
  if (folder === undefined) {
    output.err(DEMO_MODEL_NOTE);
    folder = await demoModelFolder(output.err);
  }
  const imagePath = image ?? (await sampleImagePath());
  const request = {
    image: imagePath,
    prompt: flags.prompt ?? DEFAULT_PROMPT,
    maxNewTokens,
    temperature,
    topP,
    topK,
    seed,
    profile: flags.profile,
    allowSpecialTokens: flags.allowSpecialTokens,
  };
  // Everything that can be checked without the weights, before they load.
  await preflightDescribe(folder, request);
  const model = await FastVLM.load(folder, weights);
  try {
    let result: GenerateResult;
    if (flags.json === true) {
      result = await model.generate(request);
    } else {
      const stream = model.stream(request);
      let step = await stream.next();
      while (!step.done) {
        output.out(step.value);
        step = await stream.next();
      }
      result = step.value;
      output.out('\n');
      output.err(formatTimings(result));
    }
    const adapter = model.device.name;
    if (flags.json === true)
      output.out(
        `${JSON.stringify({ text: result.text, tokenIds: result.tokenIds, promptTokenIds: result.promptTokenIds, timings: result.timings, adapter })}\n`,
      );
    if (flags.dump !== undefined) await writeDump(model, imagePath, request, flags.dump, output);
    return { ...result, adapter };
  } finally {
    model.dispose();
  }
}

function formatTimings({ timings: t, tokenIds, finishReason }: GenerateResult): string {
  const ms = (value: number | null): string => (value === null ? '-' : `${value.toFixed(0)} ms`);
  const rate = t.decodeTokensPerSecond === null ? '-' : `${t.decodeTokensPerSecond.toFixed(1)} tok/s`;
  return (
    `[${tokenIds.length} tokens, ${finishReason}] preprocess ${ms(t.preprocessMs)}, vision ${ms(t.visionMs)}, projector ${ms(t.projectorMs)}, ` +
    `prefill ${ms(t.prefillMs)}, first token ${ms(t.ttftMs)}, decode ${rate}\n`
  );
}

async function writeDump(
  model: FastVLM,
  image: string,
  request: { prompt: string; allowSpecialTokens?: boolean },
  path: string,
  output: CliOutput,
): Promise<void> {
  const dump = await dumpPipeline(model, image, request.prompt, request);
  const tensors: TensorsToWrite = {
    prompt_ids: { dtype: 'I32', shape: [dump.promptTokenIds.length], data: Int32Array.from(dump.promptTokenIds) },
    ...Object.fromEntries(
      (['pixel_values', 'vision_features', 'image_embeds', 'inputs_embeds', 'prefill_logits'] as const).map((name) => [
        name,
        { dtype: 'F32' as const, shape: dump[name].shape, data: dump[name].data },
      ]),
    ),
  };
  // Written aside and renamed: an interrupted or failed write never leaves a plausible-looking file.
  const partial = `${path}.partial-${process.pid}`;
  try {
    await writeSafetensors(partial, tensors, { model: model.folder, image });
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  output.err(`wrote ${path}\n`);
}

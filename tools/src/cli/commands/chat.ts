/**
 * `fastvlm chat [--model DIR] [--image IMAGE] [--system TEXT] [--max-new-tokens N] [--temperature T]
 * [--top-p P] [--top-k K] [--seed S] [--dtype f32|f16|int8] [--vision-dtype f32|f16|int8] [--max-context N]
 * [--allow-special-tokens]`: a conversation on
 * stdin, one message a line, each answer streamed to stdout. Later turns reuse the KV cache, so only
 * the new message is prefilled. `/reset` starts over, `/exit` or end of input ends.
 */
import { createInterface } from 'node:readline';
import { ChatContextError, ChatSession, DEFAULT_MAX_NEW_TOKENS, FastVLM, type ChatTurnOptions } from '@fastvlm/llava';
import type { Command } from 'commander';
import { DEMO_MODEL_NOTE, demoModelFolder } from '../../demo/demo-assets.js';
import { integerFlag, realFlag } from '../number-flags.js';
import { checkNamedFiles, preflightChat } from '../preflight.js';
import { dtypeOption, visionDtypeOption, weightDtypes, type WeightFlags } from '../weight-options.js';
import { outputOf, type CliOutput } from '../output.js';

export interface ChatFlags extends WeightFlags {
  readonly model?: string;
  readonly image?: string;
  readonly system?: string;
  readonly maxNewTokens?: string;
  readonly temperature?: string;
  readonly topP?: string;
  readonly topK?: string;
  readonly seed?: string;
  readonly maxContext?: string;
  readonly allowSpecialTokens?: boolean;
}

export interface ChatSummary {
  /** Messages answered (across resets). */
  turns: number;
  /** Each answer's text, in order. */
  answers: string[];
}

export function register(program: Command): void {
  program
    .command('chat')
    .summary('chat with a FastVLM model, optionally about an image')
    .description(
      'Read messages from stdin, one per line, and stream each answer to stdout; later turns reuse the KV cache. ' +
        "'/reset' starts the conversation over, '/exit' or end of input ends it. Without --model a tiny random-weight demo model is used.",
    )
    .option('--model <dir>', 'a FastVLM model folder (config.json, model.safetensors, tokenizer files)')
    .option('--image <file>', 'a PNG or JPEG file the conversation is about')
    .option('--system <text>', 'the system prompt')
    .option('--max-new-tokens <n>', 'at most this many tokens per answer', '256')
    .option('--temperature <t>', '0 is greedy', '0')
    .option('--top-p <p>', 'nucleus sampling (1 = off)')
    .option('--top-k <k>', 'sample among the k most likely (0 = off)')
    .option('--seed <s>', 'sampling seed')
    .option('--max-context <n>', 'positions the conversation may take (default 4096)')
    .option(
      '--allow-special-tokens',
      'let special tokens written in messages and --system (<|im_start|>, <|im_end|>, <|endoftext|>) act as control tokens; by default they are plain text',
    )
    .addOption(dtypeOption())
    .addOption(visionDtypeOption())
    .action(async (flags: ChatFlags, command: Command) => {
      await runChat(flags, process.stdin, outputOf(command));
    });
}

function turnOptions(flags: ChatFlags): ChatTurnOptions {
  return {
    maxNewTokens: integerFlag('--max-new-tokens', flags.maxNewTokens, { min: 1 }) ?? DEFAULT_MAX_NEW_TOKENS,
    temperature: realFlag('--temperature', flags.temperature, { min: 0 }) ?? 0,
    topP: realFlag('--top-p', flags.topP, { min: 0, minExclusive: true, max: 1 }),
    topK: integerFlag('--top-k', flags.topK, { min: 0 }),
    seed: integerFlag('--seed', flags.seed),
  };
}

/** Runs the conversation read from `input` (one message a line) until `/exit` or its end. */
export async function runChat(flags: ChatFlags, input: NodeJS.ReadableStream, output: CliOutput): Promise<ChatSummary> {
  const weights = weightDtypes(flags);
  const options = turnOptions(flags);
  const maxContext = integerFlag('--max-context', flags.maxContext, { min: 1 });

  // The image named on the command line, before the demo model is written or anything loaded.
  await checkNamedFiles({ image: flags.image === undefined ? undefined : { flag: '--image', path: flags.image } });
  let folder = flags.model;
  if (folder === undefined) {
    output.err(DEMO_MODEL_NOTE);
    folder = await demoModelFolder(output.err);
  }
  // Everything that can be checked without the weights, before they load.
  await preflightChat(folder, { image: flags.image, system: flags.system, maxContext, request: options });
  const model = await FastVLM.load(folder, weights);
  const summary: ChatSummary = { turns: 0, answers: [] };
  let chat: ChatSession | undefined;
  const lines = createInterface({ input, terminal: false, crlfDelay: Infinity });
  try {
    chat = new ChatSession(model, {
      image: flags.image,
      system: flags.system,
      maxContext,
      allowSpecialTokens: flags.allowSpecialTokens,
    });
    output.err(
      `chat ready (${flags.image === undefined ? 'no image' : flags.image}); '/reset' starts over, '/exit' ends\n`,
    );
    for await (const line of lines) {
      const message = line.trim();
      if (message === '') continue;
      if (message === '/exit') break;
      if (message === '/reset') {
        chat.reset();
        output.err('(conversation reset)\n');
        continue;
      }
      try {
        const stream = chat.send(message, options);
        let step = await stream.next();
        while (!step.done) {
          output.out(step.value);
          step = await stream.next();
        }
        output.out('\n');
        summary.turns++;
        summary.answers.push(step.value.text);
        const rate = step.value.timings.decodeTokensPerSecond;
        output.err(
          `[${step.value.tokenIds.length} tokens, ${chat.position}/${chat.maxContext} positions${rate === null ? '' : `, ${rate.toFixed(1)} tok/s`}]\n`,
        );
      } catch (error) {
        if (!(error instanceof ChatContextError)) throw error;
        output.err(`${error.message}; '/reset' to start over\n`);
      }
    }
    return summary;
  } finally {
    lines.close();
    chat?.dispose();
    model.dispose();
  }
}

/** `fastvlm tokenize --model DIR (--text TEXT | --file FILE) [--json]`: the token ids of a text. */
import { Tokenizer } from '@fastvlm/qwen2';
import type { Command } from 'commander';
import { InputError, UsageError } from '../errors.js';
import { outputOf } from '../output.js';
import { readInputFile } from '../../fs/input-paths.js';

export interface TokenizeArgs {
  /** The model folder holding tokenizer.json (or vocab.json + merges.txt). */
  readonly model?: string;
  readonly text?: string;
  /** A UTF-8 file whose whole content (final newline included) is tokenized. */
  readonly file?: string;
  readonly json?: boolean;
}

export interface TokenizeResult {
  readonly ids: readonly number[];
  /** What goes to stdout: the ids space-separated, or `{"ids": [...]}` with --json. */
  readonly stdout: string;
  /** What goes to stderr: the count, in plain mode. */
  readonly stderr: string;
}

export function register(program: Command): void {
  program
    .command('tokenize')
    .summary("print the token ids of a text with a model folder's tokenizer")
    .description(
      "Print the token ids of a text with a model folder's tokenizer. Special tokens written in the text are recognised; no BOS/EOS is added.",
    )
    .requiredOption('--model <dir>', 'model folder with tokenizer.json, or vocab.json + merges.txt')
    .option('--text <text>', 'the text to tokenize')
    .option('--file <file>', 'a UTF-8 file to tokenize')
    .option('--json', 'print {"ids": [...]}')
    .action(async (args: TokenizeArgs, command: Command) => {
      const output = outputOf(command);
      const result = await runTokenize(args);
      output.out(result.stdout);
      output.err(result.stderr);
    });
}

/** Tokenizes --text or --file with the folder's tokenizer; throws a FastVlmError on bad input. */
export async function runTokenize(args: TokenizeArgs): Promise<TokenizeResult> {
  if (args.model === undefined || args.model === '') throw new UsageError('--model <dir> is required');
  if ((args.text === undefined) === (args.file === undefined))
    throw new UsageError('give exactly one of --text <text> and --file <file>');
  const text = args.text ?? (await readTextFile(args.file as string));
  const tokenizer = await Tokenizer.fromFolder(args.model);
  const ids = tokenizer.encode(text);
  if (args.json === true) return { ids, stdout: `${JSON.stringify({ ids })}\n`, stderr: '' };
  return { ids, stdout: `${ids.join(' ')}\n`, stderr: `${ids.length} ${ids.length === 1 ? 'token' : 'tokens'}\n` };
}

/** A text file of at most 64 MiB: a FIFO or a device is refused before it is opened. */
const MAX_TEXT_FILE_BYTES = 64 * 2 ** 20;

async function readTextFile(path: string): Promise<string> {
  const bytes = await readInputFile('--file', path, MAX_TEXT_FILE_BYTES);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new InputError(`--file ${path} is not valid UTF-8 text`, { cause: error });
  }
}

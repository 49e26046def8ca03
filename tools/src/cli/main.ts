/**
 * The `fastvlm` program. Each subcommand lives in commands/<name>.ts and exports
 * `register(program: Command): void`; adding one is an import and an entry in COMMANDS.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import * as bench from './commands/bench.js';
import * as chat from './commands/chat.js';
import * as describe from './commands/describe.js';
import * as initRandom from './commands/init-random.js';
import * as inspect from './commands/inspect.js';
import * as pull from './commands/pull.js';
import * as tokenize from './commands/tokenize.js';
import * as web from './commands/web.js';
import { reportError } from './errors.js';

interface CommandModule {
  register(program: Command): void;
}

/** The subcommands, in the order `fastvlm --help` lists them. */
const COMMANDS: readonly CommandModule[] = [describe, chat, bench, pull, tokenize, inspect, initRandom, web];

/** Where the program writes; in-process callers (tests) pass their own. */
export interface CliWriters {
  writeOut(text: string): void;
  writeErr(text: string): void;
}

const PROCESS_WRITERS: CliWriters = {
  writeOut: (text) => void process.stdout.write(text),
  writeErr: (text) => void process.stderr.write(text),
};

// The same relative path from src/cli/main.ts and dist/cli/main.js.
const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** The program with every subcommand registered; errors throw (exitOverride) instead of exiting. */
export function createProgram(writers: CliWriters = PROCESS_WRITERS): Command {
  const program = new Command('fastvlm')
    .description("Apple's FastVLM in TypeScript on WebGPU")
    .version(VERSION)
    .configureOutput({ writeOut: writers.writeOut, writeErr: writers.writeErr })
    .exitOverride();
  for (const command of COMMANDS) command.register(program);
  return program;
}

/**
 * Runs the program on `argv` (as process.argv: node, script, args...) and returns the exit code;
 * it never throws and never calls process.exit.
 */
export async function runCli(
  argv: readonly string[] = process.argv,
  writers: CliWriters = PROCESS_WRITERS,
): Promise<number> {
  try {
    await createProgram(writers).parseAsync([...argv]);
    return 0;
  } catch (error) {
    return reportError(error, writers.writeErr);
  }
}

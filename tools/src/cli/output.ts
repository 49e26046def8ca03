/**
 * Where a command writes: the writers configured on the program (commander's `configureOutput`,
 * inherited by every subcommand), so in-process callers and tests can capture the output.
 */
import type { Command } from 'commander';

export interface CliOutput {
  /** Results, on stdout. */
  out(text: string): void;
  /** Notes, progress and errors, on stderr. */
  err(text: string): void;
}

export function outputOf(command: Command): CliOutput {
  const configured = command.configureOutput();
  return {
    out: (text) => (configured.writeOut ? configured.writeOut(text) : process.stdout.write(text)),
    err: (text) => (configured.writeErr ? configured.writeErr(text) : process.stderr.write(text)),
  };
}

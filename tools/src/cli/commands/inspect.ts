/**
 * `fastvlm inspect DIR [--json]`: what a FastVLM model folder holds (config, tensors by model part,
 * dtypes and sizes, completeness against Apple's layout, tokenizer files). Exits non-zero with one
 * line when the folder cannot be loaded or its checkpoint is incomplete.
 */
import { formatInspectReport } from '../../checkpoint/inspect-format.js';
import { inspectModelFolder, type InspectReport } from '../../checkpoint/inspect.js';
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { outputOf, type CliOutput } from '../output.js';

export interface InspectFlags {
  readonly json?: boolean;
}

export function register(program: Command): void {
  program
    .command('inspect')
    .summary('describe a FastVLM model folder and check its checkpoint is complete')
    .description(
      'Describe a FastVLM model folder: config summary, tensors by model part with dtypes and sizes, missing / unexpected / ' +
        'wrong-shape tensors against the layout config.json implies, and the tokenizer files present. Reads only headers.',
    )
    .argument('<dir>', 'model folder (config.json + model.safetensors or a sharded checkpoint)')
    .option('--json', 'print the report as JSON')
    .action(async (dir: string, flags: InspectFlags, command: Command) => {
      await runInspect(dir, flags, outputOf(command));
    });
}

/** The report, without the per-tensor list, as JSON. */
function reportJson(report: InspectReport): string {
  const { tensors, ...rest } = report;
  return `${JSON.stringify({ ...rest, tensorCount: tensors.length }, null, 2)}\n`;
}

/**
 * Prints the report on stdout. Throws ModelFolderError when the folder cannot be loaded, and an
 * InputError (after printing) when the checkpoint is incomplete.
 */
export async function runInspect(dir: string, flags: InspectFlags, output: CliOutput): Promise<InspectReport> {
  const report = await inspectModelFolder(dir);
  output.out(flags.json === true ? reportJson(report) : formatInspectReport(report));
  if (!report.complete) {
    const problems = [
      [report.missing.length, 'missing'],
      [report.unexpected.length, 'unexpected'],
      [report.wrongShape.length, 'with the wrong shape'],
      [report.wrongDtype.length, 'with the wrong dtype'],
    ]
      .filter(([count]) => count !== 0)
      .map(([count, what]) => `${count} ${what}`);
    throw new InputError(`${dir}: the checkpoint does not match config.json: tensors ${problems.join(', ')}`);
  }
  return report;
}

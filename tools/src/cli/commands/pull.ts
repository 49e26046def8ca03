/** `fastvlm pull REPO_ID [--revision R] [--out DIR]`: download a model folder from the Hugging Face Hub. */
import type { Command } from 'commander';
import { DEFAULT_LISTING_LIMITS } from '../../hub/listing.js';
import { pull, type PullEvent, type PullResult } from '../../hub/pull.js';
import { integerFlag } from '../number-flags.js';
import { outputOf, type CliOutput } from '../output.js';
import { formatBytes, startProgress, type Progress } from '../progress.js';

interface PullFlags {
  readonly revision: string;
  readonly out?: string;
  readonly quiet?: boolean;
  readonly maxFiles?: string;
  readonly maxListingBytes?: string;
  /** False with --no-space-check. */
  readonly spaceCheck?: boolean;
}

export function register(program: Command): void {
  program
    .command('pull')
    .summary('download a model repository from the Hugging Face Hub')
    .description(
      'Download a model repository from the Hugging Face Hub, resuming partial files and checking sizes and hashes.\n' +
        'FASTVLM_HUB_URL (or HF_ENDPOINT) picks the hub; HF_TOKEN is sent for private and gated repositories.',
    )
    .argument('<repo>', "repository id, e.g. 'apple/FastVLM-0.5B'")
    .option('--revision <revision>', 'branch, tag or commit', 'main')
    .option('--out <dir>', 'folder to download into (default: ./models/<repo name>)')
    .option('--quiet', 'print no progress')
    .option('--max-files <n>', `read a listing of at most this many files (default ${DEFAULT_LISTING_LIMITS.maxFiles})`)
    .option(
      '--max-listing-bytes <n>',
      `read at most this many bytes of listing (default ${DEFAULT_LISTING_LIMITS.maxBytes})`,
    )
    .option('--no-space-check', 'download even when the files seem not to fit in the free disk space')
    .action(async (repo: string, flags: PullFlags, command: Command) => {
      await runPull(repo, flags, outputOf(command));
    });
}

/** Runs the download, showing progress on stderr; prints where the files are on stdout. */
export async function runPull(repo: string, flags: PullFlags, output: CliOutput): Promise<PullResult> {
  const reporter = flags.quiet === true ? undefined : new PullReporter(repo, output);
  let result: PullResult;
  try {
    result = await pull({
      repo,
      revision: flags.revision,
      outDir: flags.out,
      listingLimits: {
        maxFiles: integerFlag('--max-files', flags.maxFiles, { min: 1 }),
        maxBytes: integerFlag('--max-listing-bytes', flags.maxListingBytes, { min: 1 }),
      },
      checkSpace: flags.spaceCheck !== false,
      onEvent: reporter && ((event) => reporter.on(event)),
    });
  } finally {
    reporter?.stop();
  }
  const kept =
    (result.present.length === 0 ? '' : `, ${result.present.length} already there (verified)`) +
    (result.refetched.length === 0 ? '' : `, ${result.refetched.length} corrupt and downloaded again`);
  output.out(`${result.outDir}\n`);
  output.err(`pulled ${repo} at ${result.commit.slice(0, 12)}: ${result.downloaded.length} downloaded${kept}\n`);
  return result;
}

/** Turns pull events into one progress bar over all the bytes, and a line per finished file. */
class PullReporter {
  private progress: Progress | undefined;
  private readonly doneByFile = new Map<string, number>();
  private doneBytes = 0;
  private readonly repo: string;
  private readonly output: CliOutput;

  constructor(repo: string, output: CliOutput) {
    this.repo = repo;
    this.output = output;
  }

  on(event: PullEvent): void {
    switch (event.type) {
      case 'listed':
        this.output.err(
          `${this.repo} at ${event.commit.slice(0, 12)}: ${event.files.length} files, ${formatBytes(event.totalBytes)}\n`,
        );
        this.progress = startProgress({
          title: 'pull',
          total: event.totalBytes,
          unit: 'bytes',
          writeErr: (text) => this.output.err(text),
        });
        break;
      case 'progress': {
        this.doneBytes += event.done - (this.doneByFile.get(event.file.path) ?? 0);
        this.doneByFile.set(event.file.path, event.done);
        this.progress?.update(this.doneBytes, event.file.path);
        break;
      }
      case 'corrupt':
        this.progress?.log(
          `${event.file.path}: the copy already there is corrupt (${event.detail}); downloading it again`,
        );
        break;
      case 'retry':
        this.progress?.log(`${event.file.path}: ${event.reason}; retry ${event.retry}, resuming`);
        break;
      case 'file-done':
        this.progress?.log(
          `${event.file.path} (${formatBytes(event.file.size)}) ${event.status === 'present' ? 'already there, verified' : 'downloaded'}`,
        );
        break;
    }
  }

  stop(): void {
    this.progress?.stop();
  }
}

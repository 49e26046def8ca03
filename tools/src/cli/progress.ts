/**
 * Progress of a long step: a live bar (cli-progress) when stderr is a terminal, else a plain line
 * at every tenth of the way, so logs and CI output stay readable.
 */
import cliProgress from 'cli-progress';
import { formatBytes } from '../format-bytes.js';

export { formatBytes };

export interface ProgressOptions {
  readonly title: string;
  /** The amount of work in all, in `unit`s. */
  readonly total: number;
  readonly unit?: 'bytes' | 'items';
  /** Where plain lines go (default: process.stderr). */
  readonly writeErr?: (text: string) => void;
  /** Draw a live bar on process.stderr (default: whether process.stderr is a terminal). */
  readonly live?: boolean;
}

export interface Progress {
  /** Sets the work done so far and, optionally, what is being worked on. */
  update(done: number, detail?: string): void;
  /** Prints a line (above the bar, when there is one). */
  log(line: string): void;
  /** Ends the bar; later calls do nothing. */
  stop(): void;
}

export function startProgress(options: ProgressOptions): Progress {
  const live = options.live ?? process.stderr.isTTY === true;
  return live ? new LiveProgress(options) : new PlainProgress(options);
}

function formatAmount(amount: number, unit: ProgressOptions['unit']): string {
  return unit === 'bytes' ? formatBytes(amount) : String(amount);
}

class LiveProgress implements Progress {
  private readonly bars: cliProgress.MultiBar;
  private readonly bar: cliProgress.SingleBar;
  private readonly options: ProgressOptions;
  private stopped = false;

  constructor(options: ProgressOptions) {
    this.options = options;
    this.bars = new cliProgress.MultiBar(
      {
        stream: process.stderr,
        format: '{title} [{bar}] {percentage}% {amount} {detail}',
        barsize: 30,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
        fps: 10,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar = this.bars.create(Math.max(options.total, 1), 0, this.payload(0, ''));
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
  }

  /** Ctrl-C: put the cursor back, then die of the signal as if nobody had listened. */
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.stop();
    process.kill(process.pid, signal);
  };

  update(done: number, detail = ''): void {
    if (!this.stopped) this.bar.update(done, this.payload(done, detail));
  }

  log(line: string): void {
    if (this.stopped) process.stderr.write(`${line}\n`);
    else this.bars.log(`${line}\n`);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    process.removeListener('SIGINT', this.onSignal);
    process.removeListener('SIGTERM', this.onSignal);
    this.bars.update(); // flushes lines logged since the last redraw, which stop() would drop
    this.bars.stop();
  }

  private payload(done: number, detail: string): Record<string, string> {
    const { title, total, unit } = this.options;
    return { title, amount: `${formatAmount(done, unit)}/${formatAmount(total, unit)}`, detail };
  }
}

class PlainProgress implements Progress {
  private readonly options: ProgressOptions;
  private readonly write: (text: string) => void;
  private tenthsShown = 0;
  private stopped = false;

  constructor(options: ProgressOptions) {
    this.options = options;
    this.write = options.writeErr ?? ((text) => process.stderr.write(text));
  }

  update(done: number): void {
    const { title, total, unit } = this.options;
    if (this.stopped || total <= 0) return;
    const tenths = Math.floor((10 * Math.min(done, total)) / total);
    if (tenths <= this.tenthsShown) return;
    this.tenthsShown = tenths;
    this.write(`${title}: ${tenths * 10}% (${formatAmount(done, unit)} of ${formatAmount(total, unit)})\n`);
  }

  log(line: string): void {
    this.write(`${line}\n`);
  }

  stop(): void {
    this.stopped = true;
  }
}

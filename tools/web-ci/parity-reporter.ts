/**
 * A Vitest reporter that collects the `[parity] {...}` line each kernel parity test file prints
 * (packages/kernels/test/fixtures.ts: the largest error per dtype of its PyTorch comparisons) and
 * writes them, by test file, to $FASTVLM_PARITY_OUT (`parity-<runtime>.json`). It then prints every
 * `parity-*.json` of that folder side by side, so the last browser run of `npm run test:browser`
 * shows Node (lavapipe), Chromium on SwiftShader and Chromium on lavapipe in compatibility mode.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { UserConsoleLog } from 'vitest';
import type { Reporter } from 'vitest/node';

export interface ParityEntry {
  maxAbs: number;
  maxRel: number;
  comparisons: number;
}

/** Test file (`linear`) -> dtype (`f16`) -> the largest errors of its comparisons. */
export type ParityReport = Record<string, Record<string, ParityEntry>>;

const PREFIX = '[parity] ';
/** Columns in this order when present. */
const RUNTIMES = ['node', 'swiftshader', 'compat'];

/** One line per (test file, dtype): the max abs error and comparison count of each runtime. */
export function parityTable(reports: ReadonlyMap<string, ParityReport>): string {
  const runtimes = [...reports.keys()].sort((a, b) => RUNTIMES.indexOf(a) - RUNTIMES.indexOf(b));
  const rows = new Set<string>();
  for (const report of reports.values())
    for (const [file, dtypes] of Object.entries(report))
      for (const dtype of Object.keys(dtypes)) rows.add(`${file} ${dtype}`);
  const cell = (entry: ParityEntry | undefined): string =>
    (entry ? `${entry.maxAbs.toExponential(2)} (${entry.comparisons})` : '-').padEnd(18);
  const lines = [`${'kernel family, dtype'.padEnd(28)}${runtimes.map((r) => r.padEnd(18)).join('')}`];
  for (const row of [...rows].sort()) {
    const [file, dtype] = row.split(' ');
    lines.push(`${row.padEnd(28)}${runtimes.map((r) => cell(reports.get(r)?.[file]?.[dtype])).join('')}`);
  }
  return `max abs error vs PyTorch (comparisons):\n${lines.join('\n')}`;
}

export default class ParityReporter implements Reporter {
  private readonly report: ParityReport = {};

  onUserConsoleLog(log: UserConsoleLog): void {
    for (const line of log.content.split('\n')) {
      if (!line.startsWith(PREFIX)) continue;
      const { file, dtypes } = JSON.parse(line.slice(PREFIX.length)) as {
        file: string;
        dtypes: Record<string, ParityEntry>;
      };
      this.report[file] = dtypes;
    }
  }

  onTestRunEnd(): void {
    const out = process.env.FASTVLM_PARITY_OUT;
    if (!out) return;
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(this.report, null, 1)}\n`);
    const folder = dirname(out);
    const reports = new Map<string, ParityReport>();
    for (const name of existsSync(folder) ? readdirSync(folder) : []) {
      const match = /^parity-(.+)\.json$/.exec(name);
      if (match) reports.set(match[1], JSON.parse(readFileSync(join(folder, name), 'utf8')) as ParityReport);
    }
    console.log(`[parity] wrote ${basename(out)}\n${parityTable(reports)}`);
  }
}

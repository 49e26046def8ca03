/** `fastvlm bench` run in-process on the tiny random-weight demo model. */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { register } from '../src/cli/commands/bench.js';
import { reportError } from '../src/cli/errors.js';

/** Runs `fastvlm bench ...args` as the CLI would (bench registered on its own) and captures what it writes. */
async function bench(args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const writers = { writeOut: (text: string) => void (out += text), writeErr: (text: string) => void (err += text) };
  const program = new Command('fastvlm').configureOutput(writers).exitOverride();
  register(program);
  let code = 0;
  try {
    await program.parseAsync(['node', 'fastvlm', 'bench', ...args]);
  } catch (error) {
    code = reportError(error, writers.writeErr, {});
  }
  return { code, out, err };
}

const MEASURED = [
  'ttftMs',
  'visionMs',
  'projectorMs',
  'prefillMs',
  'decodeMsPerToken',
  'peakRssBytes',
  'peakGpuBytes',
] as const;

describe('fastvlm bench', () => {
  it('--json prints one object with every figure measured (min over runs, medians under runs)', async () => {
    const { code, out, err } = await bench(['--runs', '1', '--max-new-tokens', '4', '--dtype', 'f32', '--json']);
    expect(code, err).toBe(0);
    const report = JSON.parse(out) as Record<string, unknown>;
    for (const name of MEASURED) {
      expect(typeof report[name], name).toBe('number');
      expect(report[name] as number, name).toBeGreaterThan(0);
    }
    // In-process here, so "since the process started" includes the tests before: only the order is checked.
    expect(report.coldLoadMs as number).toBeGreaterThan(0);
    expect(report.coldMs as number).toBeGreaterThan(report.coldLoadMs as number);
    expect(typeof report.adapter).toBe('string');
    expect(report.dtype).toBe('f32');
    expect(report.promptTokens as number).toBeGreaterThan(0);
    const runs = report.runs as { count: number; median: Record<string, number>; newTokens: number[] };
    expect(runs.count).toBe(1);
    expect(runs.median.ttftMs).toBe(report.ttftMs); // one run: median = min
    expect(runs.newTokens).toHaveLength(1);
    // A long-lived process compiles each pipeline once: the measured run, the warm-up's twin, none.
    const pipelines = report.pipelines as { load: number; warmUp: number; runs: number };
    expect(pipelines.load).toBeGreaterThan(10); // the vision tower's, warmed at load
    expect(pipelines.warmUp).toBeGreaterThan(5); // the decoder's
    expect(pipelines.runs).toBe(0);
    expect(['ours', 'environment', 'disabled', 'default']).toContain((report.shaderCache as { source: string }).source);
    expect(err).toContain('RANDOM weights');
  }, 300_000);

  it('prints a table of min and median per figure by default', async () => {
    const { code, out, err } = await bench(['--runs', '1', '--max-new-tokens', '2', '--dtype', 'f32']);
    expect(code, err).toBe(0);
    expect(out).toMatch(/^adapter .+, dtype f32 \(vision f32\), image \d+x\d+ -> \d+x\d+, prompt \d+ tokens/);
    expect(out).toMatch(/figure\s+min\s+median/);
    for (const name of MEASURED) expect(out).toMatch(new RegExp(`${name}\\s+\\S+`));
    expect(out).toMatch(/coldMs \(process start -> first token\)\s+\d/);
  }, 300_000);

  it('--profile adds the per-kernel profile (sections and top kernels); --ignore-eos decodes every token asked for', async () => {
    const { code, out, err } = await bench([
      '--runs',
      '1',
      '--max-new-tokens',
      '5',
      '--ignore-eos',
      '--profile',
      '--json',
    ]);
    expect(code, err).toBe(0);
    const report = JSON.parse(out) as {
      runs: { newTokens: number[] };
      promptTokenIds: number[];
      profile: {
        dispatches: number;
        sections: { name: string; dispatches: number }[];
        kernels: { label: string; ms: number }[];
      };
    };
    expect(report.runs.newTokens).toEqual([5]);
    expect(report.promptTokenIds).toContain(-200);
    expect(report.profile.sections.map((s) => s.name)).toEqual(
      expect.arrayContaining(['vision', 'projector', 'prefill', 'decode']),
    );
    expect(report.profile.sections.reduce((n, s) => n + s.dispatches, 0)).toBe(report.profile.dispatches);
    expect(report.profile.kernels.some((k) => k.label.startsWith('linear'))).toBe(true);
  }, 300_000);

  it('bad flags exit 2 before loading anything', async () => {
    for (const args of [
      ['--runs', '0'],
      ['--runs', '-1'],
      ['--runs', '1.5'],
      ['--max-new-tokens', '0'],
      ['--dtype', 'f64'],
      ['--vision-dtype', 'int4'],
    ]) {
      const { code, err } = await bench(args);
      expect(code, args.join(' ')).toBe(2);
      expect(err).toMatch(/^error: --/);
    }
  });
});

/** The CLI's one-line error reports (src/cli/errors.ts) and its plain progress lines (src/cli/progress.ts). */
import { FastVlmError } from '@fastvlm/tensor';
import { describe, expect, it } from 'vitest';
import { InputError, reportError, UsageError } from '../src/cli/errors.js';
import { formatBytes, startProgress } from '../src/cli/progress.js';

function report(error: unknown, env: NodeJS.ProcessEnv = {}): { code: number; text: string } {
  let text = '';
  const code = reportError(error, (line) => (text += line), env);
  return { code, text };
}

describe('reportError', () => {
  it('prints a FastVlmError as one line, exit 1; a UsageError exits 2', () => {
    expect(report(new FastVlmError('X', 'model/config.json: missing "hidden_size"\n  (see the spec)'))).toEqual({
      code: 1,
      text: 'error: model/config.json: missing "hidden_size" (see the spec)\n',
    });
    expect(report(new InputError('cannot read --file a'))).toEqual({ code: 1, text: 'error: cannot read --file a\n' });
    expect(report(new UsageError('give exactly one of --text and --file'))).toEqual({
      code: 2,
      text: 'error: give exactly one of --text and --file\n',
    });
  });

  it("prints a Node file-system error's message", () => {
    const error = Object.assign(new Error("ENOENT: no such file or directory, open 'x'"), {
      code: 'ENOENT',
      syscall: 'open',
    });
    expect(report(error)).toEqual({ code: 1, text: "error: ENOENT: no such file or directory, open 'x'\n" });
  });

  it('prints an unexpected error with the FASTVLM_DEBUG hint, and its stack when FASTVLM_DEBUG=1', () => {
    expect(report(new TypeError('x is undefined'))).toEqual({
      code: 1,
      text: 'error: unexpected TypeError: x is undefined (set FASTVLM_DEBUG=1 to see the stack trace)\n',
    });
    const debug = report(new TypeError('x is undefined', { cause: new RangeError('inner') }), { FASTVLM_DEBUG: '1' });
    const lines = debug.text.split('\n');
    expect(lines[0]).toBe('error: unexpected TypeError: x is undefined');
    expect(lines[1]).toBe('TypeError: x is undefined');
    expect(lines[2]).toMatch(/^\s+at /);
    expect(debug.text).toContain('caused by: RangeError: inner');
    expect(report('a string', { FASTVLM_DEBUG: '0' }).text).toBe(
      'error: unexpected a string (set FASTVLM_DEBUG=1 to see the stack trace)\n',
    );
  });
});

describe('plain progress (stderr not a terminal)', () => {
  it('prints a line at each tenth of the way, and logged lines', () => {
    const lines: string[] = [];
    const progress = startProgress({
      title: 'pull',
      total: 3 << 20,
      unit: 'bytes',
      live: false,
      writeErr: (text) => lines.push(text),
    });
    for (let done = 0; done <= 3 << 20; done += 1 << 16) progress.update(done, 'model.safetensors');
    progress.log('model.safetensors (3.0 MiB) downloaded');
    progress.stop();
    progress.update(3 << 20);
    expect(lines.length).toBe(11);
    expect(lines[0]).toBe('pull: 10% (320.0 KiB of 3.0 MiB)\n');
    expect(lines[9]).toBe('pull: 100% (3.0 MiB of 3.0 MiB)\n');
    expect(lines[10]).toBe('model.safetensors (3.0 MiB) downloaded\n');
  });

  it('formats sizes in binary units', () => {
    expect([0, 1023, 1536, 5 << 20, 1.5 * 2 ** 30].map((bytes) => formatBytes(bytes))).toEqual([
      '0 B',
      '1023 B',
      '1.5 KiB',
      '5.0 MiB',
      '1.5 GiB',
    ]);
  });
});

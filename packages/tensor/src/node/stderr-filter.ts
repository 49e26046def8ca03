/**
 * Dropping known, harmless lines that native code prints straight to file descriptor 2 (Dawn writes
 * with fprintf, past `process.stderr`). Node cannot dup2, so for the length of one synchronous call
 * fd 2 is closed and a temporary file opened in its place (the lowest free descriptor is 2), then
 * stderr is re-opened through /proc/self/fd and every captured line that matches none of `drop` is
 * written back. Linux only, and only when stderr can be re-opened as it was: a terminal, a pipe with a
 * reader, /dev/null, or a file opened for appending. Anywhere else the call simply runs unfiltered.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const STDERR = 2;
/** Captured output written back at most (the notices are two short lines). */
const MAX_CAPTURE_BYTES = 1 << 20;

/** Flags that re-open stderr's target as it was, or undefined when that is not possible. */
function reopenFlags(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  const stats = fstatSync(STDERR);
  if (stats.isFile()) {
    // A file shared with stdout through one description (`> log 2>&1`) would be overwritten by a
    // second description unless both append.
    const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${STDERR}`, 'utf8'));
    if (!flags || (parseInt(flags[1], 8) & constants.O_APPEND) === 0) return undefined;
    return constants.O_WRONLY | constants.O_APPEND;
  }
  if (stats.isFIFO()) {
    // A pipe whose reader has gone would block the re-open: probe without blocking first.
    closeSync(openSync(`/proc/self/fd/${STDERR}`, constants.O_WRONLY | constants.O_NONBLOCK));
    return constants.O_WRONLY;
  }
  if (stats.isCharacterDevice()) return constants.O_WRONLY | constants.O_NOCTTY;
  return undefined; // a socket cannot be re-opened by path
}

function readCapture(fd: number): string {
  const bytes = Buffer.alloc(MAX_CAPTURE_BYTES);
  let length = 0;
  for (;;) {
    const n = readSync(fd, bytes, length, bytes.length - length, length);
    if (n === 0 || length + n >= bytes.length) return bytes.toString('utf8', 0, length + n);
    length += n;
  }
}

/** Runs `call` with fd 2 captured; writes back every captured line that matches none of `drop`. */
export function withStderrFiltered<T>(call: () => T, drop: readonly RegExp[]): T {
  let flags: number | undefined;
  let saved: number;
  try {
    flags = reopenFlags();
    if (flags === undefined) return call();
    saved = openSync(`/proc/self/fd/${STDERR}`, flags);
  } catch {
    return call();
  }
  const restore = (): void => {
    // fd 2 is free here; the re-open lands on the lowest free descriptor, so a closed 0 or 1 is
    // filled (and freed again) on the way.
    const fillers: number[] = [];
    let fd = openSync(`/proc/self/fd/${saved}`, flags);
    while (fd < STDERR) {
      fillers.push(fd);
      fd = openSync(`/proc/self/fd/${saved}`, flags);
    }
    if (fd !== STDERR) closeSync(fd);
    for (const filler of fillers) closeSync(filler);
    closeSync(saved);
  };
  const capturePath = join(tmpdir(), `fastvlm-stderr-${process.pid}-${Date.now()}`);
  closeSync(STDERR);
  let capture: number;
  try {
    capture = openSync(capturePath, 'w+', 0o600);
  } catch {
    restore();
    return call();
  }
  try {
    unlinkSync(capturePath);
  } catch {
    // left in the temporary folder: harmless
  }
  if (capture !== STDERR) {
    // fd 0 or 1 was closed: do not capture.
    closeSync(capture);
    restore();
    return call();
  }
  let text = '';
  try {
    return call();
  } finally {
    try {
      text = readCapture(STDERR);
    } catch {
      text = '';
    }
    closeSync(STDERR);
    restore();
    const kept = text.split('\n').filter((line, i, all) => {
      if (i === all.length - 1 && line === '') return false;
      return !drop.some((pattern) => pattern.test(line));
    });
    if (kept.length > 0) writeSync(STDERR, `${kept.join('\n')}\n`);
  }
}

/**
 * makeFolderSync: `mkdir -p` that always ends. Node's `mkdir(path, { recursive: true })` never
 * returns under /proc (mkdir answers ENOENT for a parent that exists), which hung every command when
 * XDG_CACHE_HOME pointed there (the shader cache folder is made at start).
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configureShaderCache, makeFolderSync, missingLevels } from '../src/node/index.js';

const scratch = mkdtempSync(join(tmpdir(), 'fastvlm-make-folder-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return (error as NodeJS.ErrnoException).code;
  }
  return undefined;
}

describe('makeFolderSync', () => {
  it('makes every missing level and leaves an existing folder as it is', () => {
    const deep = join(scratch, 'a', 'b', 'c');
    expect(missingLevels(deep)).toEqual([join(scratch, 'a'), join(scratch, 'a', 'b'), deep]);
    makeFolderSync(deep);
    expect(statSync(deep).isDirectory()).toBe(true);
    makeFolderSync(deep);
    expect(missingLevels(deep)).toEqual([]);
  });
});

describe('bad input: folders to make', () => {
  it.each(['/proc/fastvlm-test/a/b', '/proc/fastvlm-test', '/proc/self/fastvlm-test'])(
    'ends at once under /proc (%s) with the error of the level that failed',
    (path) => {
      const started = performance.now();
      expect(codeOf(() => makeFolderSync(path))).toMatch(/^(ENOENT|EACCES|EPERM)$/);
      expect(performance.now() - started).toBeLessThan(1000);
    },
  );

  it('refuses a path through a regular file, or that is one', () => {
    const file = join(scratch, 'file');
    writeFileSync(file, 'x');
    expect(codeOf(() => makeFolderSync(join(file, 'sub')))).toBe('ENOTDIR');
    expect(codeOf(() => makeFolderSync(file))).toBe('ENOTDIR');
  });

  it('an XDG_CACHE_HOME under /proc leaves the shader cache to Mesa instead of hanging', () => {
    const env: NodeJS.ProcessEnv = { XDG_CACHE_HOME: '/proc/fastvlm-test' };
    expect(configureShaderCache(env)).toEqual({ source: 'default' });
    expect(env.MESA_SHADER_CACHE_DIR).toBeUndefined();
  });
});

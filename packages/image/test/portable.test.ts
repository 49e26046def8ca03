/**
 * The codecs run unchanged in browsers: the import graph of `@fastvlm/image` (and of fastvithd's
 * preprocessing on top of it) reaches no Node built-in, no Node-only global and not the Node-only
 * entry (src/node/, reached only through a non-literal specifier at run time). Checked on the
 * sources: every static and literal dynamic import is followed.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './image-fixtures.js';

const WORKSPACE: Record<string, string> = {
  '@fastvlm/image': join(ROOT, 'packages/image/src/index.ts'),
};
/** Third-party packages the browser entry may use (each runs in browsers). */
const ALLOWED_PACKAGES = new Set(['fflate', '@fastvlm/tensor']);
const NODE_BUILTINS = /^(node:|fs$|path$|zlib$|stream$|buffer$|util$|os$|crypto$|child_process$|module$)/;

/** Every module reachable from `entry`, with the bare specifiers it imports. */
function importGraph(entry: string): { files: string[]; external: Map<string, string> } {
  const files: string[] = [];
  const external = new Map<string, string>(); // specifier -> first importer
  const pending = [entry];
  const seen = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    files.push(file);
    const source = readFileSync(file, 'utf8');
    const specifiers = [
      ...source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g),
    ];
    for (const match of specifiers) {
      const specifier = match[1] ?? match[2];
      if (/^\s*(import|export)\s+type\s/.test(match[0].trim()) && match[1] !== undefined) continue; // erased
      if (specifier.startsWith('.')) pending.push(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else if (WORKSPACE[specifier] !== undefined) pending.push(WORKSPACE[specifier]);
      else if (!external.has(specifier)) external.set(specifier, file);
    }
  }
  return { files, external };
}

describe('browser-portable codecs', () => {
  for (const entry of ['packages/image/src/index.ts', 'packages/fastvithd/src/preprocess/index.ts']) {
    it(`${entry} reaches no Node built-in, Node-only global or Node-only entry`, () => {
      const { files, external } = importGraph(join(ROOT, entry));
      expect(files.length).toBeGreaterThan(entry.includes('image') ? 25 : 5);
      const problems: string[] = [];
      for (const [specifier, importer] of external) {
        if (NODE_BUILTINS.test(specifier)) problems.push(`${importer} imports ${specifier}`);
        else if (!ALLOWED_PACKAGES.has(specifier)) problems.push(`${importer} imports the package ${specifier}`);
      }
      for (const file of files) {
        if (file.includes('/src/node/')) problems.push(`${file} is Node-only`);
        const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
        for (const global of [/\bBuffer\b/, /\brequire\(/, /__dirname/, /process\.(env|stdout|stderr|cwd)/]) {
          if (global.test(code)) problems.push(`${file} uses ${global.source}`);
        }
      }
      expect(problems).toEqual([]);
    });
  }

  it('the check catches a Node import (the graph walk is not vacuous)', () => {
    const { external } = importGraph(join(ROOT, 'packages/image/src/node/index.ts'));
    expect([...external.keys()].filter((s) => NODE_BUILTINS.test(s)).length).toBeGreaterThan(0);
  });
});

/**
 * `FASTVLM_DUMP_WGSL=DIR` (Node only): every shader a device compiles is written to
 * `DIR/<label>-<hash>.wgsl`, the hash (FNV-1a of the source, 8 hex digits) telling apart the
 * variants one launcher generates under one label. The browser build never loads this module.
 */
import { writeFileSync } from 'node:fs';
import { makeFolderSync } from './make-folder.js';
import { join } from 'node:path';

/** 32-bit FNV-1a of the UTF-16 code units, as 8 hex digits. */
export function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** The file a shader is written to: its label (made file-safe) and the source's short hash. */
export function wgslDumpName(label: string, code: string): string {
  return `${label.replace(/[^A-Za-z0-9._-]/g, '_')}-${shortHash(code)}.wgsl`;
}

/** A `DeviceOptions.onShaderCompiled` that writes each shader into `dir` (created if missing). */
export function wgslFileDump(dir: string): (label: string, code: string) => void {
  makeFolderSync(dir);
  return (label, code) => writeFileSync(join(dir, wgslDumpName(label, code)), `// ${label}\n${code.trim()}\n`);
}

/**
 * Mesa's on-disk shader cache for our processes. On a CPU adapter (lavapipe) a pipeline is
 * compiled by LLVM at its first dispatch, 0.4-34 s for our larger kernels; Mesa keeps the compiled
 * code on disk and a later process reads it back in milliseconds (BENCHMARKS.md, "Cold start").
 * Mesa does this by default, in `$XDG_CACHE_HOME/mesa_shader_cache_db` shared with every other
 * Mesa program of the user, where our ~300 shaders compete for its 1 GiB with everything else. We
 * point it at a folder of our own instead, unless the environment already says where (or that it
 * is off): `MESA_SHADER_CACHE_DIR`, `MESA_SHADER_CACHE_DISABLE`. It must be set before Dawn creates
 * its Vulkan instance, which reads the environment once.
 */
import { makeFolderSync } from './make-folder.js';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface ShaderCacheSetting {
  /**
   * 'ours': set here to `dir`; 'environment': MESA_SHADER_CACHE_DIR was already set; 'disabled':
   * MESA_SHADER_CACHE_DISABLE is true; 'default': no folder could be made, Mesa's default applies.
   */
  source: 'ours' | 'environment' | 'disabled' | 'default';
  /** The folder Mesa writes to, when known. */
  dir?: string;
}

/** The folder of our shader cache: `$XDG_CACHE_HOME/fastvlm/mesa-shader-cache` (`~/.cache` without XDG_CACHE_HOME). */
export function shaderCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'fastvlm', 'mesa-shader-cache');
}

/** Mesa's reading of a boolean variable: 'true', '1', 'yes' (any case). */
function isTrue(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes)$/i.test(value.trim());
}

/**
 * Points Mesa's shader cache at our folder unless `env` already decides it; creates the folder.
 * Returns what applies. Call before the first `createDawnGpu` of the process.
 */
export function configureShaderCache(env: NodeJS.ProcessEnv = process.env): ShaderCacheSetting {
  if (isTrue(env.MESA_SHADER_CACHE_DISABLE)) return { source: 'disabled' };
  if (env.MESA_SHADER_CACHE_DIR) return { source: 'environment', dir: env.MESA_SHADER_CACHE_DIR };
  const dir = shaderCacheDir(env);
  try {
    makeFolderSync(dir, 0o700); // not mkdir(recursive): it loops forever under /proc
  } catch {
    return { source: 'default' }; // unwritable home: Mesa tries its own default (and disables itself if that fails too)
  }
  env.MESA_SHADER_CACHE_DIR = dir;
  return { source: 'ours', dir };
}

let applied: ShaderCacheSetting | undefined;

/** `configureShaderCache()` on the process's environment, once; later calls return the first result. */
export function shaderCacheForProcess(): ShaderCacheSetting {
  applied ??= configureShaderCache(process.env);
  return applied;
}

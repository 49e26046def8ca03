/**
 * What `fastvlm describe` uses when given no model or no image: a tiny random-weight checkpoint
 * written once into the cache folder, and the test card drawn once into it.
 */
import { existsSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeRandomCheckpoint } from '../checkpoint/random-checkpoint.js';
import { makeFolder } from '../fs/output-paths.js';
import { drawTestCard, encodePng, TEST_CARD_HEIGHT, TEST_CARD_WIDTH } from './test-card.js';

/** The same depth from tools/src/demo and tools/dist/demo: the repository's .cache folder. */
const REPO_CACHE = resolve(dirname(fileURLToPath(import.meta.url)), '../../../.cache');

/** $FASTVLM_CACHE, or the repository's .cache folder. */
export function cacheFolder(env: NodeJS.ProcessEnv = process.env): string {
  return env.FASTVLM_CACHE?.trim() || REPO_CACHE;
}

export const DEMO_MODEL_NOTE =
  'note: no --model given, so this is a tiny model with RANDOM weights (its words mean nothing); ' +
  'for real answers run `fastvlm pull apple/FastVLM-0.5B` and pass --model with the folder it prints.\n';

/** The demo model folder, written on first use (~270 MB, a few seconds). */
export async function demoModelFolder(note: (text: string) => void, cache = cacheFolder()): Promise<string> {
  const folder = join(cache, 'demo-model');
  if (!existsSync(join(folder, 'model.safetensors')) || !existsSync(join(folder, 'tokenizer.json'))) {
    note(`writing the demo model (random weights, preset 'tiny') to ${folder}...\n`);
    // Written aside and renamed, so an interrupted write never leaves a half folder behind.
    const partial = `${folder}.partial-${process.pid}`;
    await writeRandomCheckpoint(partial, { preset: 'tiny', seed: 0 });
    await rm(folder, { recursive: true, force: true });
    await rename(partial, folder);
  }
  return folder;
}

/** The sample image (the test card PNG), drawn on first use. */
export async function sampleImagePath(cache = cacheFolder()): Promise<string> {
  const path = join(cache, 'demo', 'test-card.png');
  if (!existsSync(path)) {
    await makeFolder('the cache folder (FASTVLM_CACHE)', dirname(path));
    await writeFile(path, encodePng(drawTestCard(), TEST_CARD_WIDTH, TEST_CARD_HEIGHT));
  }
  return path;
}

/** config.json of a model folder, read and checked; every failure is a ModelFolderError naming the folder. */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, parseFastVlmConfig, type FastVlmConfig } from '../config.js';
import { ModelFolderError } from '../inspect.js';

export async function readFastVlmConfig(folder: string): Promise<FastVlmConfig> {
  try {
    if (!(await stat(folder)).isDirectory()) throw new ModelFolderError(folder, 'is not a folder');
  } catch (error) {
    if (error instanceof ModelFolderError) throw error;
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ModelFolderError(
      folder,
      missing ? 'no such folder' : `cannot open the model folder: ${(error as Error).message}`,
      { cause: error },
    );
  }
  let text: string;
  try {
    text = await readFile(join(folder, 'config.json'), 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ModelFolderError(
      folder,
      missing ? 'no config.json in the folder' : `cannot read config.json: ${(error as Error).message}`,
      { cause: error },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ModelFolderError(folder, `config.json is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  try {
    return parseFastVlmConfig(json);
  } catch (error) {
    if (error instanceof ConfigError) throw new ModelFolderError(folder, error.message, { cause: error });
    throw error;
  }
}

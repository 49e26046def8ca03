/** config.json of a model folder, read and checked; every failure is a ModelFolderError naming the folder. */
import { ModelSourceError, openModelFolder, readTextFile, type FolderInput, type ModelFolder } from '@fastvlm/tensor';
import { ConfigError, parseFastVlmConfig, type FastVlmConfig } from '../config.js';
import { ModelFolderError } from './errors.js';

/** The folder `input` names (a path in Node, a URL, or a `ModelFolder`), or a ModelFolderError saying why not. */
export async function openFastVlmFolder(input: FolderInput): Promise<ModelFolder> {
  try {
    return await openModelFolder(input);
  } catch (error) {
    if (error instanceof ModelSourceError) throw new ModelFolderError(error.location, error.problem, { cause: error });
    throw error;
  }
}

export async function readFastVlmConfig(input: FolderInput): Promise<FastVlmConfig> {
  const folder = await openFastVlmFolder(input);
  let text: string | undefined;
  try {
    text = await readTextFile(folder, 'config.json');
  } catch (error) {
    if (error instanceof ModelSourceError)
      throw new ModelFolderError(folder.location, `cannot read config.json: ${error.problem}`, { cause: error });
    throw error;
  }
  if (text === undefined) throw new ModelFolderError(folder.location, 'no config.json in the folder');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ModelFolderError(folder.location, `config.json is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    return parseFastVlmConfig(json);
  } catch (error) {
    if (error instanceof ConfigError) throw new ModelFolderError(folder.location, error.message, { cause: error });
    throw error;
  }
}

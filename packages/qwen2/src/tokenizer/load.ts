/**
 * Finds a tokenizer in a model folder: tokenizer.json when the folder has one, else vocab.json +
 * merges.txt with tokenizer_config.json and/or added_tokens.json for the added tokens.
 */
import { ModelSourceError, openModelFolder, readWholeFile, type FolderInput, type ModelFolder } from '@fastvlm/tensor';
import { TokenizerError } from './errors.js';
import { parseTokenizerJson } from './parse-tokenizer-json.js';
import { parseVocabFiles, type NamedText } from './parse-vocab-files.js';
import { checkSpec, type TokenizerSpec } from './spec.js';

/** The file names a tokenizer may be read from, by the name a Hugging Face folder gives them. */
export type TokenizerFileName =
  'tokenizer.json' | 'vocab.json' | 'merges.txt' | 'tokenizer_config.json' | 'added_tokens.json';

/** File contents by name; absent names are files the folder does not have. */
export type TokenizerFiles = Partial<Record<TokenizerFileName, string>>;

/**
 * Builds and checks a spec from file contents. `where(name)` is how a file is named in errors (its
 * path, when read from a folder); `folder` names the whole set.
 */
export function specFromFiles(
  files: TokenizerFiles,
  where: (name: TokenizerFileName) => string = (name) => name,
  folder = 'tokenizer files',
): TokenizerSpec {
  const named = (name: TokenizerFileName): NamedText | undefined => {
    const text = files[name];
    return text === undefined ? undefined : { name: where(name), text };
  };
  const tokenizerJson = named('tokenizer.json');
  if (tokenizerJson !== undefined) {
    const spec = parseTokenizerJson(tokenizerJson.text, tokenizerJson.name);
    checkSpec(spec, { vocab: tokenizerJson.name, merges: tokenizerJson.name, addedTokens: tokenizerJson.name });
    return spec;
  }
  const vocab = named('vocab.json');
  const merges = named('merges.txt');
  if (vocab === undefined && merges === undefined) {
    throw new TokenizerError(folder, 'holds neither tokenizer.json nor vocab.json + merges.txt');
  }
  if (vocab === undefined || merges === undefined) {
    const missing: TokenizerFileName = vocab === undefined ? 'vocab.json' : 'merges.txt';
    throw new TokenizerError(
      where(missing),
      'is missing: without tokenizer.json, both vocab.json and merges.txt are needed',
    );
  }
  const config = named('tokenizer_config.json');
  const addedTokens = named('added_tokens.json');
  const spec = parseVocabFiles({ vocab, merges, config, addedTokens });
  checkSpec(spec, { vocab: vocab.name, merges: merges.name, addedTokens: (config ?? addedTokens ?? vocab).name });
  return spec;
}

/** A file's text, or undefined when the folder has no such file. */
async function readText(folder: ModelFolder, name: TokenizerFileName): Promise<string | undefined> {
  let bytes: Uint8Array | undefined;
  try {
    bytes = await readWholeFile(folder, name);
  } catch (error) {
    if (error instanceof ModelSourceError) throw new TokenizerError(error.location, error.problem, { cause: error });
    throw error;
  }
  if (bytes === undefined) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new TokenizerError(folder.pathOf(name), 'is not valid UTF-8', { cause: error });
  }
}

/** Reads and checks the tokenizer files of a model folder: a path (Node), a URL or a `ModelFolder`. */
export async function readTokenizerFolder(input: FolderInput): Promise<TokenizerSpec> {
  let folder: ModelFolder;
  try {
    folder = await openModelFolder(input);
  } catch (error) {
    if (error instanceof ModelSourceError) throw new TokenizerError(error.location, error.problem, { cause: error });
    throw error;
  }
  const where = (name: TokenizerFileName): string => folder.pathOf(name);
  const files: TokenizerFiles = {};
  const tokenizerJson = await readText(folder, 'tokenizer.json');
  if (tokenizerJson !== undefined) {
    files['tokenizer.json'] = tokenizerJson;
  } else {
    for (const name of ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'added_tokens.json'] as const) {
      files[name] = await readText(folder, name);
    }
  }
  return specFromFiles(files, where, folder.location);
}

/**
 * What a FastVLM model folder holds, read from config.json, the safetensors headers (no tensor
 * data is read) and the tokenizer files present, checked against `expectedTensors(config)`.
 */
import { stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { SafetensorsCheckpoint, SafetensorsError, type SafetensorsDType, type TensorEntry } from '@fastvlm/tensor';
import {
  expectedTensors,
  ModelFolderError,
  readFastVlmConfig,
  safetensorsDtypeOf,
  TENSOR_GROUPS,
  tensorGroup,
  type ExpectedTensor,
  type FastVlmConfig,
  type TensorGroup,
} from '@fastvlm/llava';

export interface StoredTensor {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  bytes: number;
  /** The file holding it, relative to the folder. */
  file: string;
}

export interface GroupSummary {
  group: TensorGroup;
  tensors: number;
  elements: number;
  bytes: number;
  /** Tensor count per stored dtype. */
  dtypes: Partial<Record<SafetensorsDType, number>>;
}

export interface Mismatch<T> {
  name: string;
  expected: T;
  actual: T;
}

/** Tokenizer file names a Hugging Face folder may hold. */
export const TOKENIZER_FILES = [
  'tokenizer.json',
  'vocab.json',
  'merges.txt',
  'tokenizer_config.json',
  'added_tokens.json',
] as const;

export interface InspectReport {
  dir: string;
  config: FastVlmConfig;
  /** Checkpoint files relative to the folder, with their sizes; `sharded` when an index was read. */
  files: { file: string; bytes: number }[];
  sharded: boolean;
  tensors: StoredTensor[];
  groups: GroupSummary[];
  missing: ExpectedTensor[];
  unexpected: StoredTensor[];
  wrongShape: Mismatch<readonly number[]>[];
  /** An integer tensor stored as float or the reverse (float-to-float differences are only notes). */
  wrongDtype: Mismatch<string>[];
  /** Every expected tensor present with its shape and kind of dtype, nothing else. */
  complete: boolean;
  notes: string[];
  /** Which of TOKENIZER_FILES exist; `tokenizerUsable`: tokenizer.json, or vocab.json + merges.txt. */
  tokenizerFiles: string[];
  tokenizerUsable: boolean;
}

const isInteger = (dtype: string): boolean => dtype.startsWith('I') || dtype === 'U8' || dtype === 'BOOL';

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function readEntries(
  dir: string,
): Promise<{ entries: TensorEntry[]; files: { file: string; bytes: number }[]; sharded: boolean }> {
  let checkpoint: SafetensorsCheckpoint;
  try {
    checkpoint = await SafetensorsCheckpoint.open(dir);
  } catch (error) {
    if (error instanceof SafetensorsError) throw new ModelFolderError(dir, error.message, { cause: error });
    throw error;
  }
  try {
    const entries = checkpoint.names().map((name) => checkpoint.entry(name));
    const files = checkpoint.files.map((file) => ({ file: relative(dir, file.path), bytes: file.size }));
    return { entries, files, sharded: basename(checkpoint.path).endsWith('.json') };
  } finally {
    await checkpoint.close();
  }
}

function summarize(tensors: readonly StoredTensor[]): GroupSummary[] {
  return TENSOR_GROUPS.map((group) => {
    const summary: GroupSummary = { group, tensors: 0, elements: 0, bytes: 0, dtypes: {} };
    for (const tensor of tensors) {
      if (tensorGroup(tensor.name) !== group) continue;
      summary.tensors++;
      summary.elements += tensor.shape.reduce((a, b) => a * b, 1);
      summary.bytes += tensor.bytes;
      summary.dtypes[tensor.dtype] = (summary.dtypes[tensor.dtype] ?? 0) + 1;
    }
    return summary;
  });
}

/** Reads a model folder's config, checkpoint headers and tokenizer file list; throws ModelFolderError when it cannot be loaded. */
export async function inspectModelFolder(dir: string): Promise<InspectReport> {
  const config = await readFastVlmConfig(dir);
  const { entries, files, sharded } = await readEntries(dir);
  const tensors: StoredTensor[] = entries.map((e) => ({
    name: e.name,
    dtype: e.dtype,
    shape: e.shape,
    bytes: e.byteLength,
    file: relative(dir, e.file),
  }));
  const stored = new Map(tensors.map((t) => [t.name, t]));
  const expected = expectedTensors(config);
  const expectedNames = new Set(expected.map((t) => t.name));
  const configDtype = safetensorsDtypeOf(config.torchDtype);

  const missing: ExpectedTensor[] = [];
  const wrongShape: Mismatch<readonly number[]>[] = [];
  const wrongDtype: Mismatch<string>[] = [];
  let otherFloat = 0;
  for (const want of expected) {
    const have = stored.get(want.name);
    if (have === undefined) {
      missing.push(want);
      continue;
    }
    if (have.shape.length !== want.shape.length || have.shape.some((d, i) => d !== want.shape[i])) {
      wrongShape.push({ name: want.name, expected: want.shape, actual: have.shape });
    }
    const wantInteger = want.dtype === 'I64';
    if (wantInteger ? have.dtype !== 'I64' : isInteger(have.dtype)) {
      wrongDtype.push({ name: want.name, expected: wantInteger ? 'I64' : 'a float dtype', actual: have.dtype });
    } else if (!wantInteger && configDtype !== undefined && have.dtype !== configDtype) {
      otherFloat++;
    }
  }

  const notes: string[] = [];
  const unexpected: StoredTensor[] = [];
  for (const tensor of tensors) {
    if (expectedNames.has(tensor.name)) continue;
    const tiedHead = tensor.name === 'lm_head.weight' && config.llm.tieWordEmbeddings;
    const headShape = [config.llm.vocabSize, config.llm.hiddenSize];
    if (tiedHead && tensor.shape.length === 2 && tensor.shape.every((d, i) => d === headShape[i])) {
      notes.push(
        'lm_head.weight is stored although tie_word_embeddings is true: it is ignored (the embedding is the head)',
      );
    } else {
      unexpected.push(tensor);
    }
  }
  if (otherFloat > 0)
    notes.push(
      `${otherFloat} float tensors are stored in a dtype other than config.json's ${config.torchDtype} (converted at load)`,
    );

  const tokenizerFiles: string[] = [];
  for (const name of TOKENIZER_FILES) if (await exists(join(dir, name))) tokenizerFiles.push(name);
  const has = (name: string): boolean => tokenizerFiles.includes(name);

  return {
    dir,
    config,
    files,
    sharded,
    tensors,
    groups: summarize(tensors),
    missing,
    unexpected,
    wrongShape,
    wrongDtype,
    complete: missing.length === 0 && unexpected.length === 0 && wrongShape.length === 0 && wrongDtype.length === 0,
    notes,
    tokenizerFiles,
    tokenizerUsable: has('tokenizer.json') || (has('vocab.json') && has('merges.txt')),
  };
}

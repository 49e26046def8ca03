/**
 * What a FastVLM model folder holds, read from config.json, the safetensors headers and the
 * tokenizer files present, checked against `expectedTensors(config)`; and the model it is
 * (inspect-model.ts). No tensor data is read, except the embedding and lm_head.weight when a tied
 * config also stores a head: they are compared to decide the LM head as transformers does.
 */
import { stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { lmHeadSource, type LmHeadSource } from '@fastvlm/qwen2';
import { SafetensorsCheckpoint, SafetensorsError, type SafetensorsDType, type TensorEntry } from '@fastvlm/tensor';
import {
  expectedTensors,
  ModelFolderError,
  PART_PREFIXES,
  readFastVlmConfig,
  safetensorsDtypeOf,
  TENSOR_GROUPS,
  tensorGroup,
  type ExpectedTensor,
  type FastVlmConfig,
  type TensorGroup,
} from '@fastvlm/llava';
import { summarizeModel, type ModelSummary } from './inspect-model.js';

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
  /** The model named, its parameters, LM head and memory per --dtype. */
  model: ModelSummary;
  /** Tensor count per stored dtype, float tensors only. */
  storedDtypes: Partial<Record<SafetensorsDType, number>>;
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
  config: FastVlmConfig,
): Promise<{
  entries: TensorEntry[];
  files: { file: string; bytes: number }[];
  sharded: boolean;
  lmHead: LmHeadSource;
}> {
  let checkpoint: SafetensorsCheckpoint;
  try {
    checkpoint = await SafetensorsCheckpoint.open(dir);
  } catch (error) {
    if (error instanceof SafetensorsError) throw new ModelFolderError(dir, error.message, { cause: error });
    throw error;
  }
  try {
    const entries = checkpoint.names().map((name) => checkpoint.entry(name));
    const files = checkpoint.files
      .map((file) => ({ file: relative(dir, file.path), bytes: file.size }))
      .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    const lmHead = await lmHeadSource(checkpoint, config.llm, PART_PREFIXES.llm).catch((error: unknown) => {
      if (error instanceof SafetensorsError) throw new ModelFolderError(dir, error.message, { cause: error });
      throw error;
    });
    return { entries, files, sharded: basename(checkpoint.path).endsWith('.json'), lmHead };
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
  const { entries, files, sharded, lmHead } = await readEntries(dir, config);
  const tensors: StoredTensor[] = entries.map((e) => ({
    name: e.name,
    dtype: e.dtype,
    shape: e.shape,
    bytes: e.byteLength,
    file: relative(dir, e.file),
  }));
  const stored = new Map(tensors.map((t) => [t.name, t]));
  const expected = expectedTensors(config, lmHead);
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
  const headCopy = `${PART_PREFIXES.llm}lm_head.weight`;
  for (const tensor of tensors) {
    if (expectedNames.has(tensor.name)) continue;
    // A bit-identical copy of the embedding: tied, the copy is not loaded (as transformers).
    if (lmHead === 'tied-stored-copy' && tensor.name === headCopy) continue;
    unexpected.push(tensor);
  }
  if (lmHead === 'stored-differs')
    notes.push(
      'lm_head.weight differs from the embedding although tie_word_embeddings is true: as transformers, the two are not tied and the stored head is used',
    );
  if (otherFloat > 0)
    notes.push(
      `${otherFloat} float tensors are stored in a dtype other than config.json's ${config.torchDtype} (converted at load)`,
    );

  const tokenizerFiles: string[] = [];
  for (const name of TOKENIZER_FILES) if (await exists(join(dir, name))) tokenizerFiles.push(name);
  const has = (name: string): boolean => tokenizerFiles.includes(name);

  const storedDtypes: Partial<Record<SafetensorsDType, number>> = {};
  for (const { dtype } of tensors) if (!isInteger(dtype)) storedDtypes[dtype] = (storedDtypes[dtype] ?? 0) + 1;

  return {
    dir,
    config,
    model: summarizeModel(config, lmHead),
    storedDtypes,
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

/**
 * The checkpoint walker: fills every parameter of a module tree from a safetensors checkpoint by the
 * parameter's name, in the form its kind asks for, after checking the checkpoint's shape.
 */
import type { FloatTensor } from '@fastvlm/kernels';
import {
  INT4_GROUP_SIZE,
  loadInt4Weight,
  loadInt8Weight,
  loadTensor,
  type Device,
  type SafetensorsCheckpoint,
} from '@fastvlm/tensor';
import type { Module } from './module.js';
import type { Parameter, ParameterValue } from './parameter.js';

/**
 * How a model's weights are held on the GPU: the matrices (linears, 1x1 convolutions, the embedding)
 * in this dtype ('int8': int8 values with one scale per output row; 'int4': symmetric int4 with an
 * f16 scale per INT4_GROUP_SIZE inputs, the vocabulary matrices in int8, see
 * ParameterOptions.vocabulary); convolution kernels in f32 for 'f32', else f16; vectors (biases,
 * norms, layer scales) always f32.
 */
export type WeightDType = 'f32' | 'f16' | 'int8' | 'int4';

/** How a parameter is stored on the GPU for the model's `dtype`: the one place that decides it. */
export function parameterStorage(parameter: Parameter, dtype: WeightDType): 'f32' | 'f16' | 'int8' | 'int4' {
  const { kind, options } = parameter;
  if (kind === 'vector') return 'f32';
  if (kind === 'kernel') return dtype === 'f32' ? 'f32' : 'f16';
  if (dtype === 'int4' && options.vocabulary) return 'int8';
  return dtype;
}

/**
 * Bytes a parameter takes on the GPU for the model's `dtype`, computed from its shape without
 * loading it: int8 is a byte per value and an f32 scale per row; int4 half a byte per value (rows
 * padded to whole bytes) and an f16 scale per group. Unused parameters take none.
 */
export function parameterBytes(parameter: Parameter, dtype: WeightDType): number {
  if (parameter.kind === 'unused') return 0;
  const { shape } = parameter;
  const size = shape.reduce((a, b) => a * b, 1);
  const [rows, cols] = parameter.kind === 'matrix' ? matrixShape(shape) : [1, size];
  switch (parameterStorage(parameter, dtype)) {
    case 'f32':
      return 4 * size;
    case 'f16':
      return 2 * size;
    case 'int8':
      return rows * cols + 4 * rows;
    case 'int4':
      return rows * Math.ceil(cols / 2) + 2 * rows * Math.ceil(cols / INT4_GROUP_SIZE);
  }
}

export interface LoadWeightsOptions {
  dtype: WeightDType;
  /** Put before every parameter name: where the module sits in the checkpoint (default ''). */
  prefix?: string;
}

/** [out, in, 1, 1] (or [out, in]) -> [out, in]. */
function matrixShape(shape: readonly number[]): [number, number] {
  return [shape[0], shape.slice(1).reduce((a, b) => a * b, 1)];
}

async function loadParameter(
  device: Device,
  checkpoint: SafetensorsCheckpoint,
  name: string,
  parameter: Parameter,
  dtype: WeightDType,
): Promise<ParameterValue<'matrix' | 'kernel' | 'vector'>> {
  const { kind, shape } = parameter;
  const storage = parameterStorage(parameter, dtype);
  if (storage === 'int8') return loadInt8Weight(device, checkpoint, name, matrixShape(shape), { storedShape: shape });
  if (storage === 'int4') return loadInt4Weight(device, checkpoint, name, matrixShape(shape), { storedShape: shape });
  const tensor = await loadTensor(device, checkpoint, name, { dtype: storage, shape });
  const target =
    kind === 'vector' ? [shape.reduce((a, b) => a * b, 1)] : kind === 'matrix' ? matrixShape(shape) : shape;
  if (target.length === shape.length) return tensor as FloatTensor;
  const view = tensor.reshape(target); // shares the storage; the view alone keeps it
  tensor.dispose();
  return view as FloatTensor;
}

/**
 * Loads every parameter of `module` (the unused ones excepted) from `checkpoint`. A missing tensor
 * or a wrong shape is a CheckpointError naming the tensor; whatever was loaded before a failure is
 * freed.
 */
export async function loadWeights(
  module: Module,
  device: Device,
  checkpoint: SafetensorsCheckpoint,
  { dtype, prefix = '' }: LoadWeightsOptions,
): Promise<void> {
  try {
    for (const [name, parameter] of module.namedParameters(prefix)) {
      if (parameter.kind === 'unused') continue;
      parameter.set(await loadParameter(device, checkpoint, name, parameter, dtype));
    }
  } catch (error) {
    module.dispose();
    throw error;
  }
}

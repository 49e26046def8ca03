/**
 * The checkpoint walker: fills every parameter of a module tree from a safetensors checkpoint by the
 * parameter's name, in the form its kind asks for, after checking the checkpoint's shape.
 */
import type { FloatTensor } from '@fastvlm/kernels';
import { loadInt8Weight, loadTensor, type Device, type SafetensorsCheckpoint } from '@fastvlm/tensor';
import type { Module } from './module.js';
import type { Parameter, ParameterValue } from './parameter.js';

/**
 * How a model's weights are held on the GPU: the matrices (linears, 1x1 convolutions, the embedding)
 * in this dtype ('int8': int8 values with one scale per output row); convolution kernels in f32 for
 * 'f32', else f16; vectors (biases, norms, layer scales) always f32.
 */
export type WeightDType = 'f32' | 'f16' | 'int8';

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
  if (kind === 'matrix' && dtype === 'int8')
    return loadInt8Weight(device, checkpoint, name, matrixShape(shape), { storedShape: shape });
  const gpuDtype = kind === 'vector' ? 'f32' : kind === 'kernel' && dtype === 'int8' ? 'f16' : dtype;
  const tensor = await loadTensor(device, checkpoint, name, { dtype: gpuDtype as 'f32' | 'f16', shape });
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

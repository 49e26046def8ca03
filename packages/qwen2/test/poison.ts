/**
 * Puts a non-finite value into a loaded model, as a corrupt computation would: `poison` writes
 * NaN (or `value`) over the first element of an f32 parameter on the GPU (recorded, in order with
 * the model's work) and returns a function that writes the saved value back.
 */
import type { Parameter } from '@fastvlm/nn';
import { ShapeError, Tensor } from '@fastvlm/tensor';

export function poison(parameter: Parameter, value = NaN): () => void {
  const tensor = parameter.value as Tensor;
  if (!(tensor instanceof Tensor) || tensor.dtype !== 'f32')
    throw new ShapeError(`poison: expected an f32 tensor parameter, got ${String(tensor)}`);
  const device = tensor.device;
  const target = tensor.bindingRef();
  const saved = Tensor.empty(device, [1], 'f32').keep();
  device.copy(target, saved.bindingRef(), 4);
  const bad = Tensor.fromArray(device, [value], [1], 'f32');
  device.copy(bad.bindingRef(), target, 4);
  bad.dispose();
  return () => {
    device.copy(saved.bindingRef(), target, 4);
    saved.dispose();
  };
}

/** The first loaded f32 tensor parameter of `parameters` (named as the checkpoint names it). */
export function firstF32Parameter(parameters: [string, Parameter][]): [string, Parameter] {
  const found = parameters.find(
    ([, p]) => p.loaded && p.value instanceof Tensor && p.value.dtype === 'f32' && !p.value.isSplit,
  );
  if (found === undefined) throw new ShapeError('no loaded f32 parameter');
  return found;
}

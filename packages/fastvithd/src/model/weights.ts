/**
 * Where the tower's parameters come from. Modules ask for their weights by the checkpoint's own
 * names relative to where they sit (`weights.at('network').at(2).at(0).at('convffn').conv('fc1', ...)`),
 * so `model.vision_tower.vision_tower.model.network.2.0.convffn.fc1.weight` is built by walking the
 * module tree, never looked up in a table. Every tensor loaded is recorded for the tower's dispose().
 */
import type { FloatTensor, Weight } from '@fastvlm/kernels';
import {
  loadInt8Weight,
  loadTensor,
  type Device,
  type Disposable,
  type SafetensorsCheckpoint,
  type Tensor,
} from '@fastvlm/tensor';

/**
 * How the tower's convolution and matrix weights are held on the GPU. Biases and norms stay f32.
 * 'int8': the matrices (1x1 convolutions, attention qkv and proj) in int8 with one scale per
 * output channel; the spatial and grouped convolutions in f16.
 */
export type VisionDType = 'f32' | 'f16' | 'int8';

/** A convolution of the checkpoint: `weight` in the tower's float dtype, `bias` [out] f32. */
export interface ConvWeights {
  weight: FloatTensor;
  bias: Tensor<'f32'>;
}

/** A matrix [out, in] (a 1x1 convolution or a linear) in the tower's dtype, `bias` [out] f32. */
export interface MatrixWeights {
  weight: Weight;
  bias: Tensor<'f32'>;
}

export class TowerWeights {
  private constructor(
    private readonly device: Device,
    private readonly checkpoint: SafetensorsCheckpoint,
    readonly dtype: VisionDType,
    /** Every weight loaded through this tree, so the tower can free them all. */
    private readonly loaded: Disposable[],
    private readonly prefix: string,
  ) {}

  static root(device: Device, checkpoint: SafetensorsCheckpoint, dtype: VisionDType, prefix: string): TowerWeights {
    return new TowerWeights(device, checkpoint, dtype, [], prefix);
  }

  /** The weights of the child module `name` (a field name or an index). */
  at(name: string | number): TowerWeights {
    return new TowerWeights(this.device, this.checkpoint, this.dtype, this.loaded, `${this.prefix}${name}.`);
  }

  /** A convolution weight in the tower's float dtype (f16 for an int8 tower), checked against `shape`. */
  async weight(name: string, shape: readonly number[]): Promise<FloatTensor> {
    return this.own(await this.load(name, shape, this.floatDtype)) as FloatTensor;
  }

  /**
   * A matrix [out, in] in the tower's dtype, int8 included; `stored` is the checkpoint's shape when
   * it has unit dimensions (a 1x1 convolution's [out, in, 1, 1]).
   */
  async matrix(name: string, shape: readonly [number, number], stored: readonly number[] = shape): Promise<Weight> {
    if (this.dtype === 'int8') {
      const weight = await loadInt8Weight(this.device, this.checkpoint, this.prefix + name, shape, {
        storedShape: stored,
      });
      this.device.scopes.keep(weight);
      this.loaded.push(weight);
      return weight;
    }
    const tensor = await this.load(name, stored, this.dtype);
    this.own(tensor);
    return this.own(tensor.reshape([...shape])) as FloatTensor;
  }

  /** `name.weight` [out, in] as a matrix and `name.bias` [out]. */
  async linear(name: string, out: number, inp: number, stored: readonly number[] = [out, inp]): Promise<MatrixWeights> {
    const module = this.at(name);
    return { weight: await module.matrix('weight', [out, inp], stored), bias: await module.vector('bias', [out]) };
  }

  private get floatDtype(): 'f32' | 'f16' {
    return this.dtype === 'int8' ? 'f16' : this.dtype;
  }

  /** A per-channel vector in f32; `shape` is the checkpoint's ([C], or [C, 1, 1] for a layer scale). */
  async vector(name: string, shape: readonly number[]): Promise<Tensor<'f32'>> {
    const vector = this.own(await this.load(name, shape, 'f32'));
    return (shape.length === 1 ? vector : this.own(vector.reshape([-1]))) as Tensor<'f32'>;
  }

  /** `name.weight` of `shape` (a spatial or grouped convolution) and `name.bias` [shape[0]]. */
  async conv(name: string, shape: readonly number[]): Promise<ConvWeights> {
    const module = this.at(name);
    return { weight: await module.weight('weight', shape), bias: await module.vector('bias', [shape[0]]) };
  }

  /** A 1x1 convolution [out, in, 1, 1] as the [out, in] matrix a linear over the pixels takes. */
  pointwise(name: string, out: number, inp: number): Promise<MatrixWeights> {
    return this.linear(name, out, inp, [out, inp, 1, 1]);
  }

  private load(name: string, shape: readonly number[], dtype: 'f32' | 'f16'): Promise<Tensor> {
    return loadTensor(this.device, this.checkpoint, this.prefix + name, { dtype, shape });
  }

  /** Takes `tensor` out of any open scope and records it for `disposeAll`. */
  private own(tensor: Tensor): Tensor {
    tensor.keep();
    this.loaded.push(tensor);
    return tensor;
  }

  /** Frees every tensor loaded through this tree (and the views made of them). */
  disposeAll(): void {
    for (const tensor of this.loaded.splice(0)) tensor.dispose();
  }
}

/**
 * Where a module's parameters come from. Modules ask for their weights by the checkpoint's own
 * names relative to where they sit (`weights.at('self_attn').at('q_proj').matrix('weight', ...)`),
 * so a name such as `model.layers.3.self_attn.q_proj.weight` is built by walking the module tree,
 * as candle's VarBuilder does, never looked up in a table.
 */
import { concatRows, Int8Weight, type Disposable, type Tensor } from '@fastvlm/tensor';
import type { Weight } from '@fastvlm/kernels';

/** How the linear layers' and the embedding's weights are held on the GPU. Norms and biases stay f32. */
export type ModelDType = 'f32' | 'f16' | 'int8';

/** A store of named parameters: a checkpoint, or random values for benchmarks. */
export interface ParameterSource {
  has(name: string): boolean;
  /** The parameter `name` of `shape` as an f32 or f16 tensor. */
  tensor(name: string, shape: readonly number[], dtype: 'f32' | 'f16'): Promise<Tensor>;
  /** The matrix `name` [out, in] quantized to int8 with one scale per output row. */
  int8(name: string, shape: readonly [number, number]): Promise<Int8Weight>;
}

export class Weights {
  private constructor(
    private readonly source: ParameterSource,
    readonly dtype: ModelDType,
    /** Every parameter loaded through this tree, so the model can free them all. */
    private readonly loaded: Disposable[],
    private readonly prefix: string,
  ) {}

  /** The root of a tree of names; `prefix` (e.g. 'model.') is put before every name. */
  static root(source: ParameterSource, dtype: ModelDType, prefix = ''): Weights {
    return new Weights(source, dtype, [], prefix);
  }

  /** The weights of the child module `name` (a field name or a layer index). */
  at(name: string | number): Weights {
    return new Weights(this.source, this.dtype, this.loaded, `${this.prefix}${name}.`);
  }

  /** A root that shares this tree's loaded list (for names outside the prefix, such as `lm_head`). */
  sibling(prefix: string): Weights {
    return new Weights(this.source, this.dtype, this.loaded, prefix);
  }

  name(name: string): string {
    return this.prefix + name;
  }

  has(name: string): boolean {
    return this.source.has(this.name(name));
  }

  /** A weight matrix [out, in] in the model's dtype. */
  async matrix(name: string, shape: readonly [number, number]): Promise<Weight> {
    const full = this.name(name);
    const weight =
      this.dtype === 'int8'
        ? await this.source.int8(full, shape)
        : ((await this.source.tensor(full, shape, this.dtype)) as Tensor<'f32'> | Tensor<'f16'>);
    return this.own(weight);
  }

  /**
   * Loaded matrices [n_i, in] stacked row-wise into one weight (Qwen2's [gate_proj; up_proj], read
   * by one kernel), which replaces them; undefined, leaving them as they are, where the stack would
   * not fit one buffer binding.
   */
  stack(parts: readonly Weight[]): Weight | undefined {
    const first = parts[0];
    if (first === undefined) return undefined;
    const bytes = parts.reduce(
      (sum, p) => sum + (p instanceof Int8Weight ? Math.max(p.values.byteLength, p.scales.byteLength) : p.byteLength),
      0,
    );
    if (bytes > first.device.limits.maxStorageBufferBindingSize) return undefined;
    // concatRows keeps the parts' dtype, so a stack of Weights is a Weight
    const stacked =
      first instanceof Int8Weight
        ? Int8Weight.concatRows(parts as Int8Weight[])
        : (concatRows(parts as Tensor[]) as Weight);
    for (const part of parts) {
      part.dispose();
      const at = this.loaded.indexOf(part);
      if (at >= 0) this.loaded.splice(at, 1);
    }
    return this.own(stacked);
  }

  /** A vector (norm gain, bias) in f32. */
  async vector(name: string, length: number): Promise<Tensor<'f32'>> {
    return this.own((await this.source.tensor(this.name(name), [length], 'f32')) as Tensor<'f32'>);
  }

  /** Takes `item` out of any open scope and registers it for `disposeAll`. */
  private own<T extends Weight>(item: T): T {
    item.device.scopes.keep(item);
    this.loaded.push(item);
    return item;
  }

  /** Frees every parameter loaded through this tree. */
  disposeAll(): void {
    for (const item of this.loaded.splice(0)) item.dispose();
  }
}

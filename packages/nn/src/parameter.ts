/**
 * A parameter of a module: declared with the checkpoint's shape when the module is built (no data),
 * filled by `loadWeights`, read by the module's forward, freed by `dispose()`. Declaring before
 * loading is what lets one module tree be both the model and the statement of its checkpoint's
 * layout (names, shapes), as PyTorch's and MLX's modules are.
 */
import type { FloatTensor, Weight } from '@fastvlm/kernels';
import type { Int4Weight, Int8Weight, Tensor } from '@fastvlm/tensor';

/** How a parameter is held on the GPU once loaded. */
export type ParameterKind =
  /** A weight matrix [out, in] in the model's weight dtype, int8 / int4 included; a 1x1 convolution's [out, in, 1, 1] is read as [out, in]. */
  | 'matrix'
  /** A convolution kernel [out, in/groups, kh, kw] in the model's float dtype (f16 for an int8 model). */
  | 'kernel'
  /** A per-channel vector (bias, norm gain, layer scale) in f32, flattened ([C, 1, 1] -> [C]). */
  | 'vector'
  /** Stored in the checkpoint but not used for inference: declared for the layout, never loaded. */
  | 'unused';

interface Values {
  matrix: Weight;
  kernel: FloatTensor;
  vector: Tensor<'f32'>;
  unused: never;
}

export type ParameterValue<K extends ParameterKind> = Values[K];

export interface ParameterOptions {
  /** An integer tensor (BatchNorm's `num_batches_tracked`, I64); float otherwise. */
  integer?: boolean;
  /**
   * A reparameterized convolution whose identity (skip) branch is folded in: its centre tap carries
   * the input through (RepMixer, RepCPE). A fact of the layout that random checkpoints draw from.
   */
  identityFolded?: boolean;
  /**
   * A matrix with a row per vocabulary entry (the embedding table, an untied LM head): held in int8
   * when the model's dtype is int4. The table is gathered a row at a time (no int4 gather), and the
   * head's logits pick every token: 8 bits keep it as accurate as the int8 model's (the head is
   * what llama.cpp's 4-bit formats keep wider too).
   */
  vocabulary?: boolean;
}

export class Parameter<K extends ParameterKind = ParameterKind> {
  #value: ParameterValue<K> | undefined;

  constructor(
    readonly kind: K,
    /** The checkpoint's shape. */
    readonly shape: readonly number[],
    readonly options: ParameterOptions = {},
  ) {}

  static matrix(shape: readonly number[], options: ParameterOptions = {}): Parameter<'matrix'> {
    return new Parameter('matrix', shape, options);
  }

  static kernel(shape: readonly number[], options: ParameterOptions = {}): Parameter<'kernel'> {
    return new Parameter('kernel', shape, options);
  }

  static vector(shape: readonly number[]): Parameter<'vector'> {
    return new Parameter('vector', shape);
  }

  static unused(shape: readonly number[], options: ParameterOptions = {}): Parameter<'unused'> {
    return new Parameter('unused', shape, options);
  }

  get loaded(): boolean {
    return this.#value !== undefined;
  }

  /** The loaded tensor; an error before loading or after `release()`. */
  get value(): ParameterValue<K> {
    if (this.#value === undefined)
      throw new Error(`a ${this.kind} parameter ${JSON.stringify(this.shape)} is not loaded`);
    return this.#value;
  }

  /** Takes ownership of `value` (out of any open scope); a value already held is freed. */
  set(value: ParameterValue<K>): void {
    (value as Tensor | Int8Weight | Int4Weight).device.scopes.keep(value as Tensor | Int8Weight | Int4Weight);
    this.release();
    this.#value = value;
  }

  /** Frees the value (a fusion that replaced it, or the module's dispose()). */
  release(): void {
    (this.#value as Tensor | Int8Weight | Int4Weight | undefined)?.dispose();
    this.#value = undefined;
  }
}

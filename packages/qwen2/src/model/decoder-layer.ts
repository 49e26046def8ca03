/** Qwen2DecoderLayer: pre-norm attention and MLP, each added to the residual stream. */
import type { KvCache } from '@fastvlm/kernels';
import { Module, RmsNorm } from '@fastvlm/nn';
import type { Tensor } from '@fastvlm/tensor';
import { Attention } from './attention.js';
import type { Qwen2Config } from './config.js';
import { Mlp } from './mlp.js';

export class DecoderLayer extends Module {
  // Declared in transformers' order (attention, MLP, then the two norms): the checkpoint's module
  // order, which decides where save_pretrained cuts shards.
  readonly self_attn: Attention;
  readonly mlp: Mlp;
  readonly input_layernorm: RmsNorm;
  readonly post_attention_layernorm: RmsNorm;

  constructor(config: Qwen2Config) {
    super();
    this.self_attn = new Attention(config);
    this.mlp = new Mlp(config);
    this.input_layernorm = new RmsNorm(config.hiddenSize, config.rmsNormEps);
    this.post_attention_layernorm = new RmsNorm(config.hiddenSize, config.rmsNormEps);
  }

  /** x [T, hidden] at positions start .. start+T-1 -> [T, hidden]. */
  forward(x: Tensor<'f32'>, cache: KvCache, layer: number, start: number): Tensor<'f32'> {
    // h = x + self_attn(input_layernorm(x)); out = h + mlp(post_attention_layernorm(h)). Each norm is
    // handed to the projection that reads it, which applies it on the way in (linear's inputNorm).
    const h = this.self_attn.forward(x, this.input_layernorm.asInputNorm, cache, layer, start);
    return this.mlp.forward(h, this.post_attention_layernorm.asInputNorm);
  }
}

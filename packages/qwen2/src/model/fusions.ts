/**
 * Qwen2's inference-time fusions, applied once after loading (the loaders call it): in each decoder
 * layer, q_proj, k_proj and v_proj stacked into `self_attn.qkv_proj`, and gate_proj and up_proj
 * into `mlp.gate_up_proj`. The checkpoint's tensors are freed as they are stacked (and their
 * buffers given back: no later tensor fits them); where a stack would not fit one buffer binding,
 * its parts stay and the layer runs them apart.
 */
import { stackLinears } from '@fastvlm/nn';
import type { Qwen2ForCausalLM } from './qwen2-model.js';

export function fuseForInference(model: Qwen2ForCausalLM): void {
  for (const { self_attn: attention, mlp } of model.model.layers) {
    attention.qkv_proj ??= stackLinears([attention.q_proj, attention.k_proj, attention.v_proj]);
    mlp.gate_up_proj ??= stackLinears([mlp.gate_proj, mlp.up_proj]);
    model.device.releaseFreeBuffers(); // a layer at a time: load's peak memory stays one layer's stacks above the model's
  }
}

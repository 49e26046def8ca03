/**
 * bench:llm --profile's split of a decode step into the layer's parts, on ours (kernel labels and
 * `[MxK]->N` details) and on PyTorch's profiler rows (aten::linear by weight shape, bias or not).
 */
import type { KernelProfile } from '@fastvlm/tensor';
import type { Qwen2Config } from '@fastvlm/qwen2';
import { describe, expect, it } from 'vitest';
import { ourDecodeParts, torchDecodeParts, type TorchProfiledOp } from '../src/bench/decode-parts.js';

/** FastVLM-0.5B's Qwen2 widths. */
const CONFIG: Qwen2Config = {
  hiddenSize: 896,
  intermediateSize: 4864,
  numHiddenLayers: 24,
  numAttentionHeads: 14,
  numKeyValueHeads: 2,
  headDim: 64,
  rmsNormEps: 1e-6,
  ropeTheta: 1e6,
  vocabSize: 151936,
  tieWordEmbeddings: true,
  maxPositionEmbeddings: 32768,
  eosTokenIds: [],
};

function kernel(label: string, detail: string, ms: number, bytes = 0): KernelProfile {
  return { section: 'decode', label, detail, dispatches: 1, ms, flops: 0, bytes };
}

describe('a decode step by part', () => {
  it('puts each of our kernels in its part of the layer, per step', () => {
    const parts = ourDecodeParts(
      CONFIG,
      [
        kernel('linear-f16-1x2-normed-f32', '[1x896]->1152 f16', 4, 400),
        kernel('causal-attention-split', 'T1 kv282', 2),
        kernel('linear-f16-1x2', '[1x896]->896 f16', 6, 600),
        kernel('linear-swiglu-f16-1x2-normed-f32', '[1x896]->4864 f16', 20, 2000),
        kernel('linear-f16-1x2', '[1x4864]->896 f16', 10, 1000),
        kernel('linear-f16-1x2-normed-f32', '[1x896]->151936 f16', 12, 1200),
        kernel('rope-qkv-4', 'T1 14+2x2 heads', 8),
        kernel('argmax-partial', '', 2),
      ],
      2,
    );
    expect(parts['q, k, v (+ input norm)']).toEqual({ ms: 2, weightBytes: 200 });
    expect(parts.attention).toEqual({ ms: 1, weightBytes: 0 });
    expect(parts.o_proj).toEqual({ ms: 3, weightBytes: 300 });
    expect(parts['gate + up (+ norm, SwiGLU)']).toEqual({ ms: 10, weightBytes: 1000 });
    expect(parts.down).toEqual({ ms: 5, weightBytes: 500 });
    expect(parts['LM head (+ final norm)']).toEqual({ ms: 6, weightBytes: 600 });
    expect(parts['the rest']).toEqual({ ms: 5, weightBytes: 0 });
  });

  it("puts PyTorch's linears by weight shape (q has a bias, o_proj none) and leaves the step's remainder to 'the rest'", () => {
    const linear = (out: number, inputs: number, bias: boolean, calls: number, ms: number): TorchProfiledOp => ({
      name: 'aten::linear',
      shapes: [[1, 1, inputs], [out, inputs], bias ? [out] : []],
      calls,
      ms,
    });
    const ops: TorchProfiledOp[] = [
      linear(896, 896, true, 48, 8), // q_proj
      linear(128, 896, true, 96, 4), // k_proj, v_proj
      linear(896, 896, false, 48, 6), // o_proj
      linear(4864, 896, false, 96, 60),
      linear(896, 4864, false, 48, 20),
      linear(151936, 896, false, 2, 40),
      { name: 'aten::scaled_dot_product_attention', shapes: [[1, 14, 1, 64]], calls: 48, ms: 2 },
    ];
    const parts = torchDecodeParts(CONFIG, ops, 2, 80);
    expect(parts['q, k, v (+ input norm)'].ms).toBe(6);
    expect(parts['q, k, v (+ input norm)'].weightBytes).toBe((4 * (48 * 896 * 896 + 96 * 128 * 896)) / 2);
    expect(parts.o_proj.ms).toBe(3);
    expect(parts['gate + up (+ norm, SwiGLU)'].ms).toBe(30);
    expect(parts.down.ms).toBe(10);
    expect(parts['LM head (+ final norm)']).toEqual({ ms: 20, weightBytes: 4 * 151936 * 896 });
    expect(parts.attention.ms).toBe(1);
    expect(parts['the rest'].ms).toBe(80 - (6 + 3 + 30 + 10 + 20 + 1));
  });
});

/**
 * One Qwen2 decode step split into the parts of the layer diagram (q/k/v, attention, o_proj, gate + up,
 * down, LM head, the rest), for ours (a per-dispatch profile: each dispatch timed alone) and for
 * PyTorch (torch.profiler's inclusive CPU time of each aten::linear and scaled_dot_product_attention),
 * so `bench:llm --profile` can show where a step's time goes on each side of the same run.
 */
import type { KernelProfile } from '@fastvlm/tensor';
import type { Qwen2Config } from '@fastvlm/qwen2';

export const DECODE_PARTS = [
  'q, k, v (+ input norm)',
  'attention',
  'o_proj',
  'gate + up (+ norm, SwiGLU)',
  'down',
  'LM head (+ final norm)',
  'the rest',
] as const;
export type DecodePart = (typeof DECODE_PARTS)[number];

/** Milliseconds per decode step and weight bytes read per step, per part. */
export type DecodeBreakdown = Record<DecodePart, { ms: number; weightBytes: number }>;

/** One op of PyTorch's profile, as tools/python/bench_llm_torch.py --profile-steps prints it. */
export interface TorchProfiledOp {
  name: string;
  /** Input shapes; for aten::linear [x, weight [out, in], bias or []]. */
  shapes: number[][];
  calls: number;
  /** Inclusive CPU ms over all the profiled steps. */
  ms: number;
}

function emptyBreakdown(): DecodeBreakdown {
  return Object.fromEntries(DECODE_PARTS.map((p) => [p, { ms: 0, weightBytes: 0 }])) as DecodeBreakdown;
}

/**
 * The part a matrix product [.. x inputs] -> outputs belongs to, by the model's widths. q_proj and
 * o_proj are both hidden -> hidden where PyTorch runs q, k and v apart: q is the one with a bias.
 */
function linearPart(
  config: Qwen2Config,
  inputs: number,
  outputs: number,
  kind: { swiglu?: boolean; bias?: boolean },
): DecodePart {
  const { hiddenSize, intermediateSize, vocabSize, headDim, numAttentionHeads, numKeyValueHeads } = config;
  if (inputs === intermediateSize && outputs === hiddenSize) return 'down';
  if (inputs !== hiddenSize) return 'the rest';
  if (kind.swiglu === true || outputs === intermediateSize) return 'gate + up (+ norm, SwiGLU)';
  if (outputs === vocabSize) return 'LM head (+ final norm)';
  const stackedQkv = (numAttentionHeads + 2 * numKeyValueHeads) * headDim;
  const kOrV = numKeyValueHeads * headDim;
  const q = numAttentionHeads * headDim;
  if (outputs === stackedQkv || outputs === kOrV || (outputs === q && kind.bias === true))
    return 'q, k, v (+ input norm)';
  if (outputs === hiddenSize) return 'o_proj';
  return 'the rest';
}

/** Our decode-section kernels (label, `[MxK]->N dtype` detail) summed per part, per step. */
export function ourDecodeParts(config: Qwen2Config, kernels: readonly KernelProfile[], steps: number): DecodeBreakdown {
  const parts = emptyBreakdown();
  for (const k of kernels) {
    const shape = /^\[(\d+)x(\d+)\]->(\d+)/.exec(k.detail);
    let part: DecodePart = 'the rest';
    if (k.label.startsWith('causal-attention')) part = 'attention';
    else if (k.label.startsWith('linear') && shape) {
      part = linearPart(config, Number(shape[2]), Number(shape[3]), { swiglu: k.label.includes('swiglu') });
    }
    parts[part].ms += k.ms / steps;
    if (part !== 'the rest' && part !== 'attention') parts[part].weightBytes += k.bytes / steps;
  }
  return parts;
}

/**
 * PyTorch's profiled ops per part, per step; 'the rest' is what the step's wall time (timed without
 * the profiler) leaves: norms, RoPE, SiLU, residual adds, the cache's concatenation, argmax.
 */
export function torchDecodeParts(
  config: Qwen2Config,
  ops: readonly TorchProfiledOp[],
  steps: number,
  wallMsPerStep: number,
): DecodeBreakdown {
  const parts = emptyBreakdown();
  for (const op of ops) {
    let part: DecodePart = 'the rest';
    let weightBytes = 0;
    if (op.name === 'aten::scaled_dot_product_attention') part = 'attention';
    else if (op.name === 'aten::linear') {
      const [outputs, inputs] = op.shapes[1];
      part = linearPart(config, inputs, outputs, { bias: (op.shapes[2] ?? []).length > 0 });
      weightBytes = (4 * outputs * inputs * op.calls) / steps;
    }
    if (part === 'the rest') continue;
    parts[part].ms += op.ms / steps;
    parts[part].weightBytes += weightBytes;
  }
  const profiled = DECODE_PARTS.reduce((sum, p) => sum + parts[p].ms, 0);
  parts['the rest'].ms = Math.max(0, wallMsPerStep - profiled);
  return parts;
}

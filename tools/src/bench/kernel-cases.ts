/** The kernels benchmarked by `npm run bench:kernels`, at FastVLM-0.5B's real shapes. */
import { INT4_GROUP_SIZE, Int4Weight, Int8Weight, Tensor, type Device } from '@fastvlm/tensor';
import {
  activate,
  appendKv,
  argmax,
  causalAttention,
  conv2d,
  depthwiseConv2d,
  embedding,
  KvCache,
  layerNorm,
  linear,
  linearSwiGlu,
  rmsNorm,
  rope,
  softmax,
  visionAttention,
  type Weight,
} from '@fastvlm/kernels';

export interface KernelBenchCase {
  name: string;
  /** Weight/storage dtype of our side (PyTorch runs fp32). */
  dtype: string;
  /** Useful floating-point operations per run (for GFLOP/s) ... */
  flops?: number;
  /** ... or bytes that must move per run (for GB/s), for memory-bound ops. */
  bytes?: number;
  setup(device: Device): { run(): void; dispose(): void };
  /** The same op for tools/python/bench_kernels_torch.py. */
  torch?: Record<string, unknown> & { op: string };
}

/** Deterministic pseudo-random values in [-scale, scale). */
function random(n: number, scale = 1, seed = 12345): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

function tensor(device: Device, shape: number[], scale = 1, seed = 1): Tensor<'f32'> {
  return Tensor.fromArray(
    device,
    random(
      shape.reduce((a, b) => a * b, 1),
      scale,
      seed,
    ),
    shape,
    'f32',
  );
}

type WeightKind = 'f32' | 'f16' | 'int8' | 'int4';

function weight(device: Device, rows: number, cols: number, kind: WeightKind): Weight {
  const values = random(rows * cols, 1 / Math.sqrt(cols), 7);
  if (kind === 'int8') return Int8Weight.quantize(device, values, [rows, cols]);
  if (kind === 'int4') return Int4Weight.quantize(device, values, [rows, cols]);
  return Tensor.fromArray(device, values, [rows, cols], kind) as Weight;
}

/** Bytes per weight moved (int4: half a byte and an f16 scale per 32; int8's per-row scale is negligible). */
const WEIGHT_BYTES: Record<WeightKind, number> = { f32: 4, f16: 2, int8: 1, int4: 0.5 + 2 / INT4_GROUP_SIZE };

/** A benchmark whose setup makes tensors and whose run records one op and frees its output. */
function simple(
  c: Omit<KernelBenchCase, 'setup'> & { make(device: Device): { inputs: { dispose(): void }[]; op(): Tensor } },
): KernelBenchCase {
  return {
    ...c,
    setup(device) {
      const { inputs, op } = c.make(device);
      return { run: () => op().dispose(), dispose: () => inputs.forEach((t) => t.dispose()) };
    },
  };
}

function linearCase(label: string, M: number, K: number, N: number, kind: WeightKind): KernelBenchCase {
  const decode = M <= 4;
  return simple({
    name: `linear ${label} [${M}x${K}]->${N} ${kind}`,
    dtype: kind,
    ...(decode ? { bytes: N * K * WEIGHT_BYTES[kind] } : { flops: 2 * M * K * N }),
    make(device) {
      const x = tensor(device, [M, K]);
      const w = weight(device, N, K, kind);
      const b = tensor(device, [N], 0.1, 3);
      return { inputs: [x, w, b], op: () => linear(x, w, { bias: b }) };
    },
    torch: { op: 'linear', M, K, N },
  });
}

/** Qwen2's gate_proj and up_proj as one stacked [2N, K] weight with the SwiGLU product as epilogue. */
function swigluCase(label: string, M: number, K: number, N: number, kind: WeightKind): KernelBenchCase {
  return simple({
    name: `linearSwiGlu ${label} [${M}x${K}]->2x${N} ${kind}`,
    dtype: kind,
    ...(M <= 4 ? { bytes: 2 * N * K * WEIGHT_BYTES[kind] } : { flops: 4 * M * K * N }),
    make(device) {
      const x = tensor(device, [M, K]);
      const w = weight(device, 2 * N, K, kind);
      return { inputs: [x, w], op: () => linearSwiGlu(x, w) };
    },
  });
}

function depthwiseCase(H: number, C: number, k: number): KernelBenchCase {
  return simple({
    name: `depthwise ${k}x${k} + BN [${H},${H},${C}] f16`,
    dtype: 'f16',
    flops: 2 * k * k * H * H * C,
    make(device) {
      const x = tensor(device, [H, H, C]);
      const w = Tensor.fromArray(device, random(C * k * k, 0.2), [C, 1, k, k], 'f16');
      const stats = [0, 1, 2, 3].map((i) =>
        Tensor.fromArray(
          device,
          random(C, 0.5, 10 + i).map((v) => v + 1),
          [C],
          'f32',
        ),
      );
      const batchNorm = { runningMean: stats[0], runningVar: stats[1], weight: stats[2], bias: stats[3], eps: 1e-5 };
      return { inputs: [x, w, ...stats], op: () => depthwiseConv2d(x, w, { padding: (k - 1) / 2, batchNorm }) };
    },
    torch: { op: 'conv2d', H, W: H, cin: C, cout: C, k, stride: 1, padding: (k - 1) / 2, groups: C },
  });
}

function convCase(
  label: string,
  H: number,
  cin: number,
  cout: number,
  k: number,
  stride: number,
  groups: number,
): KernelBenchCase {
  const out = Math.floor((H + 2 * ((k - 1) / 2) - k) / stride) + 1;
  return simple({
    name: `conv2d ${label} ${k}x${k}/s${stride} g${groups} [${H},${H},${cin}]->${cout} f16`,
    dtype: 'f16',
    flops: 2 * out * out * cout * (cin / groups) * k * k,
    make(device) {
      const x = tensor(device, [H, H, cin]);
      const w = Tensor.fromArray(device, random((cout * cin * k * k) / groups, 0.2), [cout, cin / groups, k, k], 'f16');
      const b = tensor(device, [cout], 0.1);
      return {
        inputs: [x, w, b],
        op: () => conv2d(x, w, { bias: b, stride, padding: (k - 1) / 2, groups, activation: 'gelu' }),
      };
    },
    torch: { op: 'conv2d', H, W: H, cin, cout, k, stride, padding: (k - 1) / 2, groups },
  });
}

function visionAttentionCase(N: number, C: number): KernelBenchCase {
  const heads = C / 32;
  return simple({
    name: `visionAttention N${N} C${C} (${heads} heads)`,
    dtype: 'f32',
    flops: 4 * N * N * C,
    make(device) {
      const qkv = tensor(device, [N, 3 * C]);
      return { inputs: [qkv], op: () => visionAttention(qkv, heads) };
    },
    torch: { op: 'vision_attention', N, C, heads },
  });
}

function causalAttentionCase(T: number, kvLength: number): KernelBenchCase {
  const heads = 14;
  const kvHeads = 2;
  const headDim = 64;
  return {
    name: `causalAttention GQA 14/2 T${T} kv${kvLength}`,
    dtype: 'f32',
    flops: 4 * T * kvLength * heads * headDim,
    setup(device) {
      const cache = new KvCache(device, { layers: 1, kvHeads, maxSeq: kvLength, headDim });
      const k = tensor(device, [kvLength, kvHeads, headDim], 1, 5);
      const v = tensor(device, [kvLength, kvHeads, headDim], 1, 6);
      appendKv(cache, 0, k, v, 0);
      const q = tensor(device, [T, heads, headDim], 1, 7);
      return {
        run: () => causalAttention(q, cache, 0, { start: kvLength - T, kvLength }).dispose(),
        dispose: () => [cache, k, v, q].forEach((t) => t.dispose()),
      };
    },
    torch: { op: 'causal_attention', T, kvLength, heads, kvHeads, headDim },
  };
}

/**
 * A decoder pre-norm and the projection after it (`norm+` cases): rmsNorm then the linear (two
 * dispatches), or the norm fused into the linear as its inputNorm (one), on a decode row.
 */
function normedCase(label: string, N: number, kind: WeightKind, swiglu: boolean, fused: boolean): KernelBenchCase {
  const K = 896;
  return simple({
    name: `norm+${label} [1x${K}]->${swiglu ? '2x' : ''}${N} ${kind} ${fused ? 'fused (inputNorm)' : 'rmsNorm, then linear'}`,
    dtype: kind,
    bytes: (swiglu ? 2 : 1) * N * K * WEIGHT_BYTES[kind],
    make(device) {
      const x = tensor(device, [1, K], 4);
      const gamma = tensor(device, [K], 1, 2);
      const w = weight(device, (swiglu ? 2 : 1) * N, K, kind);
      const inputNorm = { weight: gamma, eps: 1e-6 };
      const project = (input: Tensor<'f32'>, norm?: typeof inputNorm): Tensor<'f32'> =>
        swiglu ? linearSwiGlu(input, w, { inputNorm: norm }) : linear(input, w, { inputNorm: norm });
      const op = fused
        ? () => project(x, inputNorm)
        : () => {
            const normed = rmsNorm(x, gamma, 1e-6);
            const y = project(normed);
            normed.dispose();
            return y;
          };
      return { inputs: [x, gamma, w], op };
    },
  });
}

export const KERNEL_CASES: KernelBenchCase[] = [
  // Vision: 1x1 convolutions are GEMMs over H*W positions (95% of FastViTHD's FLOPs).
  linearCase('stage1 fc1', 16384, 192, 768, 'f16'),
  linearCase('stage2 fc1', 4096, 384, 1536, 'f32'),
  linearCase('stage2 fc1', 4096, 384, 1536, 'f16'),
  linearCase('stage2 fc2', 4096, 1536, 384, 'f16'),
  linearCase('stage3 qkv', 1024, 768, 2304, 'f16'),
  linearCase('projector fc1', 256, 3072, 896, 'f16'),
  // LLM prefill (281 tokens) and decode (one token).
  linearCase('prefill gate', 281, 896, 4864, 'f16'),
  linearCase('prefill gate', 281, 896, 4864, 'int8'),
  swigluCase('prefill gate+up', 281, 896, 4864, 'int8'),
  swigluCase('prefill gate+up', 281, 896, 4864, 'int4'),
  linearCase('decode gate', 1, 896, 4864, 'f32'),
  linearCase('decode gate', 1, 896, 4864, 'f16'),
  linearCase('decode gate', 1, 896, 4864, 'int8'),
  linearCase('decode gate', 1, 896, 4864, 'int4'),
  swigluCase('decode gate+up', 1, 896, 4864, 'f16'),
  swigluCase('decode gate+up', 1, 896, 4864, 'int8'),
  swigluCase('decode gate+up', 1, 896, 4864, 'int4'),
  normedCase('q/k/v', 1152, 'f16', false, false),
  normedCase('q/k/v', 1152, 'f16', false, true),
  normedCase('gate+up', 4864, 'int8', true, false),
  normedCase('gate+up', 4864, 'int8', true, true),
  linearCase('decode down', 1, 4864, 896, 'f16'),
  linearCase('decode down', 1, 4864, 896, 'int8'),
  linearCase('decode down', 1, 4864, 896, 'int4'),
  linearCase('lm head', 1, 896, 151936, 'f16'),
  linearCase('lm head', 1, 896, 151936, 'int8'),
  depthwiseCase(256, 96, 7),
  depthwiseCase(64, 384, 7),
  depthwiseCase(256, 96, 3),
  convCase('stem', 1024, 3, 96, 3, 2, 1),
  convCase('down1', 256, 96, 192, 7, 2, 96),
  convCase('conv_exp', 16, 1536, 3072, 3, 1, 1536),
  visionAttentionCase(1024, 768),
  visionAttentionCase(256, 1536),
  causalAttentionCase(281, 281),
  causalAttentionCase(1, 300),
  simple({
    name: 'layerNorm [1024,768]',
    dtype: 'f32',
    bytes: 1024 * 768 * 8,
    make(device) {
      const x = tensor(device, [1024, 768]);
      const w = tensor(device, [768], 1, 2);
      const b = tensor(device, [768], 1, 3);
      return { inputs: [x, w, b], op: () => layerNorm(x, w, b, 1e-5) };
    },
    torch: { op: 'layer_norm', rows: 1024, C: 768 },
  }),
  simple({
    name: 'rmsNorm [281,896]',
    dtype: 'f32',
    bytes: 281 * 896 * 8,
    make(device) {
      const x = tensor(device, [281, 896]);
      const w = tensor(device, [896], 1, 2);
      return { inputs: [x, w], op: () => rmsNorm(x, w, 1e-6) };
    },
    torch: { op: 'rms_norm', rows: 281, C: 896 },
  }),
  simple({
    name: 'softmax [1,151936]',
    dtype: 'f32',
    bytes: 151936 * 8,
    make(device) {
      const x = tensor(device, [1, 151936], 10);
      return { inputs: [x], op: () => softmax(x) };
    },
    torch: { op: 'softmax', rows: 1, N: 151936 },
  }),
  simple({
    name: 'rope q [281,14,64]',
    dtype: 'f32',
    bytes: 281 * 14 * 64 * 8,
    make(device) {
      const x = tensor(device, [281, 14, 64]);
      return { inputs: [x], op: () => rope(x, 0, 1e6) };
    },
  }),
  simple({
    name: 'embedding 281 rows of [151936,896]',
    dtype: 'f16',
    bytes: 281 * 896 * 6,
    make(device) {
      const table = Tensor.fromArray(device, random(151936 * 896, 0.05), [151936, 896], 'f16');
      const ids = Tensor.fromArray(
        device,
        Int32Array.from({ length: 281 }, (_, i) => (i * 7919) % 151936),
        [281],
        'i32',
      );
      return { inputs: [table, ids], op: () => embedding(ids, table) };
    },
    torch: { op: 'embedding', T: 281, V: 151936, D: 896 },
  }),
  simple({
    name: 'argmax [1,151936]',
    dtype: 'f32',
    bytes: 151936 * 4,
    make(device) {
      const x = tensor(device, [1, 151936], 10);
      return { inputs: [x], op: () => argmax(x) };
    },
    torch: { op: 'argmax', rows: 1, V: 151936 },
  }),
  simple({
    name: 'gelu [6291456]',
    dtype: 'f32',
    bytes: 6291456 * 8,
    make(device) {
      const x = tensor(device, [6291456]);
      return { inputs: [x], op: () => activate(x, 'gelu') };
    },
    torch: { op: 'unary', activation: 'gelu', n: 6291456 },
  }),
];

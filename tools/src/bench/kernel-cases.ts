/** The kernels benchmarked by `npm run bench:kernels`, at FastVLM-0.5B's real shapes. */
import { Tensor, type Device } from '@fastvlm/tensor';
import { activate, type Activation } from '@fastvlm/kernels';

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

function random(n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

function unaryCase(activation: Activation, n: number): KernelBenchCase {
  return {
    name: `${activation} [${n}]`,
    dtype: 'f32',
    bytes: n * 8,
    setup(device) {
      const x = Tensor.fromArray(device, random(n), [n], 'f32');
      return {
        run: () => activate(x, activation).dispose(),
        dispose: () => x.dispose(),
      };
    },
    torch: { op: 'unary', activation, n },
  };
}

export const KERNEL_CASES: KernelBenchCase[] = [unaryCase('gelu', 65536 * 96)];

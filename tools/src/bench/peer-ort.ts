/**
 * ONNX Runtime Web in Node on our Dawn adapter, for `npm run bench:peer`. The package is installed
 * into tools/peer/ by that benchmark only (tools/setup/bench-peer.sh), so it is loaded by path and
 * typed here by the few calls made.
 *
 * Two builds of ORT-Web run WebGPU: `webgpu` (`onnxruntime-web/webgpu`, the native WebGPU EP compiled
 * to WebAssembly, what transformers.js imports) takes our GPUDevice; `jsep` (`onnxruntime-web`, the
 * older JavaScript EP) asks our adapter for a device of its own. Both need, in Node only:
 * - `navigator.gpu`: set to our Dawn entry point when Node has none;
 * - the event loop kept alive while their GPU promises are pending: Dawn's Node binding does not
 *   hold it open for a `mapAsync`, so a run whose JS stack is empty would let Node start exiting;
 * - `queue.writeBuffer` given a copy when the data lies in a SharedArrayBuffer (the threaded
 *   WebAssembly heap): Dawn's binding rejects such views, a browser accepts them;
 * - one WebAssembly thread: with more, ORT starts workers that fetch() their script, which fails in
 *   Node for a file (so the WASM EP here runs on one core, PyTorch's CPU figures on two).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const ORT_DIST = join(ROOT, 'tools/peer/node_modules/onnxruntime-web/dist');

export type OrtBuild = 'webgpu' | 'jsep';
export type OrtProvider = 'webgpu' | 'wasm';

export interface OrtTensor {
  readonly dims: readonly number[];
  readonly type: string;
  readonly data: Float32Array | BigInt64Array | Uint16Array;
}

export interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
}

interface OrtModule {
  env: {
    wasm: { numThreads?: number; wasmBinary?: Uint8Array };
    webgpu: { device?: GPUDevice; adapter?: GPUAdapter; powerPreference?: string };
    logLevel?: string;
    versions: { web?: string; common?: string };
  };
  Tensor: new (type: string, data: Float32Array | BigInt64Array, dims: readonly number[]) => OrtTensor;
  InferenceSession: {
    create(
      model: Uint8Array,
      options: {
        executionProviders: OrtProvider[];
        externalData?: { path: string; data: Uint8Array }[];
        graphOptimizationLevel?: string;
      },
    ): Promise<OrtSession>;
  };
}

const BUNDLES: Record<OrtBuild, string> = { webgpu: 'ort.webgpu.min.mjs', jsep: 'ort.min.mjs' };
/** Each build's WebAssembly, handed over as bytes: ORT would otherwise fetch() it, which Node cannot do for a file. */
const BINARIES: Record<OrtBuild, string> = {
  webgpu: 'ort-wasm-simd-threaded.asyncify.wasm',
  jsep: 'ort-wasm-simd-threaded.jsep.wasm',
};

export class PeerMissingError extends Error {}

/**
 * Loads ORT-Web's `build`, wired to `adapter` / `device` for its WebGPU EP, with `threads` WebAssembly
 * threads for its CPU EP. Call once per process (ORT's environment is global).
 */
export async function loadOrt(
  build: OrtBuild,
  gpu: { gpu: GPU; adapter: GPUAdapter; device: GPUDevice },
  threads: number,
): Promise<OrtModule> {
  const bundle = join(ORT_DIST, BUNDLES[build]);
  if (!existsSync(bundle))
    throw new PeerMissingError(`${bundle} is missing: run 'npm ci --prefix tools/peer' (npm run bench:peer does)`);
  copySharedWrites();
  // ORT looks for WebGPU where a page has it.
  const nav = ((globalThis as { navigator?: object }).navigator ??= {}) as { gpu?: GPU };
  if (!nav.gpu) Object.defineProperty(nav, 'gpu', { value: gpu.gpu, configurable: true });
  const ort = (await import(pathToFileURL(bundle).href)) as OrtModule;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.wasmBinary = await readFile(join(ORT_DIST, BINARIES[build]));
  ort.env.logLevel = 'error';
  if (build === 'webgpu') ort.env.webgpu.device = gpu.device;
  else ort.env.webgpu.adapter = gpu.adapter;
  return ort;
}

let patched = false;
function copySharedWrites(): void {
  if (patched) return;
  patched = true;
  const proto = GPUQueue.prototype as unknown as { writeBuffer: (...args: unknown[]) => void };
  const write = proto.writeBuffer;
  proto.writeBuffer = function (this: GPUQueue, ...args: unknown[]): void {
    const [buffer, offset, data, dataOffset, size] = args;
    if (data instanceof SharedArrayBuffer) return write.call(this, buffer, offset, new Uint8Array(data).slice());
    if (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer) {
      const bytesPer = 'BYTES_PER_ELEMENT' in data ? (data.BYTES_PER_ELEMENT as number) : 1;
      const first = typeof dataOffset === 'number' ? dataOffset : 0;
      const count = typeof size === 'number' ? size : data.byteLength / bytesPer - first;
      const copy = new Uint8Array(data.buffer, data.byteOffset + first * bytesPer, count * bytesPer).slice();
      return write.call(this, buffer, offset, copy);
    }
    return write.apply(this, args);
  };
}

/** Runs `work` with the event loop held open (see the file comment). */
export async function keepingAlive<T>(work: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => undefined, 50);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

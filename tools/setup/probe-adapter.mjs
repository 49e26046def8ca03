// Exits 0 and prints the adapter's name when Dawn (npm `webgpu`) finds a WebGPU adapter, 1 otherwise.
// Used by the install script to decide whether a Vulkan driver must be installed.
import { create, globals } from 'webgpu';

process.env.XDG_RUNTIME_DIR ??= '/tmp';
Object.assign(globalThis, globals);
const gpu = create([]);
const adapter = await gpu.requestAdapter();
if (!adapter) {
  console.error('no WebGPU adapter');
  process.exit(1);
}
const info = adapter.info;
console.log(`${info.vendor} ${info.architecture} ${info.device} ${info.description}`.trim());
// Keep `gpu` alive until here: Dawn aborts if it is collected while in use.
globalThis.__fastvlmProbeGpu = gpu;
process.exit(0);

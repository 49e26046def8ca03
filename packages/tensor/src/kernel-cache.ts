/**
 * Compiled compute pipelines, keyed by their WGSL source (generators specialise shapes into the
 * source, so the source is the whole key), and the bind groups made for them, keyed by what they
 * bind. Both are made once and reused: a decode step that repeats the previous step's dispatches
 * creates nothing new.
 */
export interface Kernel {
  readonly id: number;
  readonly label: string;
  /** The WGSL the pipeline was compiled from. */
  readonly source: string;
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

export interface BindingRef {
  buffer: GPUBuffer;
  bufferId: number;
  offset: number;
  size: number;
}

const MAX_BIND_GROUPS = 16384;

export class KernelCache {
  private readonly kernels = new Map<string, Kernel>();
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private nextId = 1;
  compiled = 0;
  bindGroupsCreated = 0;

  constructor(
    private readonly device: GPUDevice,
    /** Called with each shader when it is first compiled (e.g. to write it to a file, see `DeviceOptions`). */
    private readonly onCompile?: (label: string, code: string) => void,
  ) {}

  get kernelCount(): number {
    return this.kernels.size;
  }

  /** Every kernel compiled so far, in compile order. */
  list(): readonly Kernel[] {
    return [...this.kernels.values()];
  }

  kernel(code: string, label: string): Kernel {
    let kernel = this.kernels.get(code);
    if (!kernel) {
      this.onCompile?.(label, code);
      const module = this.device.createShaderModule({ code, label });
      const pipeline = this.device.createComputePipeline({
        layout: 'auto',
        compute: { module, entryPoint: 'main' },
        label,
      });
      kernel = { id: this.nextId++, label, source: code, pipeline, layout: pipeline.getBindGroupLayout(0) };
      this.kernels.set(code, kernel);
      this.compiled++;
    }
    return kernel;
  }

  bindGroup(kernel: Kernel, bindings: readonly BindingRef[]): GPUBindGroup {
    let key = String(kernel.id);
    for (const b of bindings) key += `|${b.bufferId}:${b.offset}:${b.size}`;
    let group = this.bindGroups.get(key);
    if (!group) {
      if (this.bindGroups.size >= MAX_BIND_GROUPS) this.bindGroups.clear();
      group = this.device.createBindGroup({
        layout: kernel.layout,
        entries: bindings.map((b, binding) => ({
          binding,
          resource: { buffer: b.buffer, offset: b.offset, size: b.size },
        })),
        label: kernel.label,
      });
      this.bindGroups.set(key, group);
      this.bindGroupsCreated++;
    }
    return group;
  }

  /** Forgets bind groups (they may name a buffer that was just destroyed). */
  dropBindGroups(): void {
    this.bindGroups.clear();
  }
}

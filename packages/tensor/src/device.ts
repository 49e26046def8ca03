import { adapterName, describeAdapter, type AdapterDescription } from './adapter-info.js';
import { BufferPool, type PooledBuffer } from './buffer-pool.js';
import { requiredLimitsFor, type KernelLimitName, type LimitCaps } from './device-limits.js';
import { DeviceError, ShapeError } from './errors.js';
import {
  findGpu,
  lowerJsThreadPriority,
  noAdapterHelp,
  requestAdapter,
  wgslDumpFromEnvironment,
} from './gpu-provider.js';
import { KernelCache, type BindingRef, type Kernel } from './kernel-cache.js';
import {
  summariseDispatches,
  timeDispatches,
  type CapturedDispatch,
  type DispatchProfile,
  type DispatchWork,
} from './profiler.js';
import type { RecordedCommand, RecordedWork } from './recorded-work.js';
import { ScopeStack, type Disposable } from './scope.js';
import { UniformArena } from './uniform-arena.js';

export type OptionalFeature = 'shader-f16' | 'subgroups' | 'timestamp-query';
const OPTIONAL_FEATURES: readonly OptionalFeature[] = ['shader-f16', 'subgroups', 'timestamp-query'];
/** Uploads between two submits, at most (see `upload`). */
const UPLOAD_SUBMIT_BYTES = 64 * 1024 * 1024;

/**
 * 'core': a full WebGPU adapter, or a compatibility-mode one when no core adapter exists (Chromium
 * offers lavapipe only that way). 'compatibility': a compatibility-mode device even where a core
 * adapter exists (to test what such an adapter allows).
 */
export type FeatureLevel = 'core' | 'compatibility';

/**
 * How kernels lay out their work. 'cpu': tuned for a CPU adapter (lavapipe: a few threads, each
 * streaming a row; nothing rewards coalescing or occupancy). 'gpu': for real GPUs (a workgroup
 * cooperates over each row or output column, neighbouring invocations read neighbouring
 * addresses, GEMM tiles staged in workgroup memory). Both run on every adapter; the choice only
 * changes speed.
 */
export type KernelShape = 'cpu' | 'gpu';
export const KERNEL_SHAPES: readonly KernelShape[] = ['cpu', 'gpu'];

export interface DeviceOptions {
  /** A WebGPU entry point to use instead of `navigator.gpu` / Dawn. */
  gpu?: GPU;
  powerPreference?: GPUPowerPreference;
  /** Default 'core' (falling back to 'compatibility' when no core adapter exists). */
  featureLevel?: FeatureLevel;
  /** Fail unless the adapter offers these. */
  requireFeatures?: readonly OptionalFeature[];
  /** Act as if the adapter lacked these (to exercise fallback paths). */
  disableFeatures?: readonly OptionalFeature[];
  /**
   * Lower caps on limits, applied to what is requested and to `device.limits` (WebGPU raises a
   * request below the default back to it): e.g. `{ maxStorageBufferBindingSize: 4096 }` splits
   * tensors into 4 KiB row blocks, to exercise the block paths with small tensors.
   */
  limitCaps?: LimitCaps;
  /**
   * The kernel layouts to use (see `KernelShape`). Default: 'cpu' on a CPU adapter (lavapipe,
   * SwiftShader, WARP), 'gpu' on any other; tests force each one on the adapter they have.
   */
  kernelShape?: KernelShape;
  /** Flags for Dawn's Node binding, e.g. `backend=vulkan`, `adapter=NAME`. */
  dawnFlags?: readonly string[];
  /** Free buffers kept for reuse beyond this are destroyed at the next submit. Default 1 GiB. */
  maxPooledBytes?: number;
  /**
   * Node only: Dawn busy-polls the JS thread while a GPU promise is pending. On a CPU adapter that
   * thread competes with the driver's workers, so by default its priority is lowered.
   */
  lowerJsThreadPriority?: boolean;
  /**
   * Called with each shader's label and WGSL when it is first compiled. In Node, `FASTVLM_DUMP_WGSL=DIR`
   * (read by `createDevice`) sets it to a writer of `DIR/<label>-<hash>.wgsl` (see node/wgsl-dump.ts).
   */
  onShaderCompiled?: (label: string, code: string) => void;
}

/** A recorded dispatch, as `observeDispatches` reports it. */
export interface ObservedDispatch {
  kernel: Kernel;
  workgroups: [number, number, number];
  work: DispatchWork;
}

/** A binding of a dispatch: a tensor (anything with a binding), raw buffer range, or uniform data. */
export type Binding = { bindingRef(): BindingRef } | BindingRef | { uniform: ArrayBufferView };

export interface DeviceLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeWorkgroupsPerDimension: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
  maxStorageBuffersPerShaderStage: number;
  minStorageBufferOffsetAlignment: number;
}

const FEATURE_LEVELS: readonly string[] = ['core', 'compatibility'];

async function findAdapter(gpu: GPU, options: DeviceOptions): Promise<{ adapter: GPUAdapter; level: FeatureLevel }> {
  const wanted = options.featureLevel ?? 'core';
  if (!FEATURE_LEVELS.includes(wanted)) {
    throw new DeviceError(
      `createDevice: featureLevel must be 'core' or 'compatibility', got ${JSON.stringify(wanted)}`,
    );
  }
  const powerPreference = options.powerPreference ?? 'high-performance';
  if (wanted === 'core') {
    const adapter = await requestAdapter(gpu, { powerPreference, featureLevel: 'core' });
    if (adapter) return { adapter, level: 'core' };
  }
  const adapter = await requestAdapter(gpu, { powerPreference, featureLevel: 'compatibility' });
  if (adapter) return { adapter, level: 'compatibility' };
  throw new DeviceError(noAdapterHelp());
}

export async function createDevice(options: DeviceOptions = {}): Promise<Device> {
  if (options.kernelShape !== undefined && !KERNEL_SHAPES.includes(options.kernelShape))
    throw new DeviceError(
      `createDevice: kernelShape must be 'cpu' or 'gpu', got ${JSON.stringify(options.kernelShape)}`,
    );
  // Dawn rounds timestamps to 100 µs unless told not to; profiles need them exact.
  const gpu =
    options.gpu ?? (await findGpu(['disable-dawn-features=timestamp_quantization', ...(options.dawnFlags ?? [])]));
  const { adapter, level } = await findAdapter(gpu, options);
  const info = describeAdapter(adapter);
  const disabled = new Set(options.disableFeatures ?? []);
  // A compatibility-mode device gets no optional feature it is not asked for, and asks for none
  // beyond the three the kernels know (never 'core-features-and-limits', which would make it core).
  const features = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f) && !disabled.has(f));
  for (const f of options.requireFeatures ?? []) {
    if (!features.includes(f))
      throw new DeviceError(`the adapter ${adapterName(info)} lacks the required feature '${f}'`);
  }
  const requiredLimits = requiredLimitsFor(adapter.limits, adapterName(info), options.limitCaps);
  let gpuDevice: GPUDevice;
  try {
    gpuDevice = await adapter.requestDevice({ requiredFeatures: features, requiredLimits });
  } catch (cause) {
    throw new DeviceError(`requestDevice failed on ${adapterName(info)}: ${String(cause)}`, { cause });
  }
  const onShaderCompiled = options.onShaderCompiled ?? (await wgslDumpFromEnvironment());
  const device = new Device(gpu, adapter, gpuDevice, new Set(features), {
    ...options,
    featureLevel: level,
    onShaderCompiled,
  });
  if (options.lowerJsThreadPriority ?? device.info.isCpu) await lowerJsThreadPriority();
  return device;
}

/**
 * One WebGPU device and everything tied to it: the buffer pool, the kernel cache and the command
 * batch being recorded. Kernels record dispatches into the batch; nothing runs until the batch is
 * submitted, which happens when a result is read back or `submit()` is called.
 */
export class Device {
  readonly info: AdapterDescription;
  /** 'compatibility' when the device runs in WebGPU's compatibility mode. */
  readonly featureLevel: FeatureLevel;
  /** How kernels lay out their work on this device (see `KernelShape`). */
  readonly kernelShape: KernelShape;
  readonly limits: DeviceLimits;
  readonly pool: BufferPool;
  readonly kernels: KernelCache;
  readonly scopes = new ScopeStack();
  /** Dispatches and submits since creation, for profiles. */
  readonly stats = { dispatches: 0, submits: 0, readbacks: 0 };
  private readonly uniforms: UniformArena;
  private encoder: GPUCommandEncoder | undefined;
  private pass: GPUComputePassEncoder | undefined;
  private batchId = 0;
  private pendingCommands = 0;
  private readonly errors: string[] = [];
  private lostReason: string | undefined;
  private nextBufferId = 1 << 30;
  private readonly maxPooledBytes: number;
  /** Open while a profile is being captured. */
  private captured: CapturedDispatch[] | undefined;
  private profileSection = '';
  private uploadedSinceSubmit = 0;
  private readonly dispatchObservers = new Set<(dispatch: ObservedDispatch) => void>();
  /** Observers that asked for a dry run: while any is registered, dispatches are reported and not recorded. */
  private dryRuns = 0;
  /** Open while work is being recorded for replay (see `beginRecording`). */
  private recording: RecordedCommand[] | undefined;
  /** Open inside `warmPipelines`: every dispatch runs one workgroup. */
  private warmingPipelines = false;

  constructor(
    /** The WebGPU entry point; held so that Dawn's object outlives the device. */
    readonly gpu: GPU,
    readonly adapter: GPUAdapter,
    readonly gpuDevice: GPUDevice,
    readonly features: ReadonlySet<OptionalFeature>,
    options: DeviceOptions = {},
  ) {
    this.info = describeAdapter(adapter);
    this.featureLevel = options.featureLevel ?? 'core';
    this.kernelShape = options.kernelShape ?? (this.info.isCpu ? 'cpu' : 'gpu');
    const l = gpuDevice.limits;
    const caps = options.limitCaps ?? {};
    const capped = (name: KernelLimitName): number => Math.min(l[name], caps[name] ?? Infinity);
    this.limits = {
      maxStorageBufferBindingSize: capped('maxStorageBufferBindingSize'),
      maxBufferSize: capped('maxBufferSize'),
      maxComputeWorkgroupsPerDimension: capped('maxComputeWorkgroupsPerDimension'),
      maxComputeWorkgroupStorageSize: capped('maxComputeWorkgroupStorageSize'),
      maxComputeInvocationsPerWorkgroup: capped('maxComputeInvocationsPerWorkgroup'),
      maxComputeWorkgroupSizeX: capped('maxComputeWorkgroupSizeX'),
      maxStorageBuffersPerShaderStage: capped('maxStorageBuffersPerShaderStage'),
      minStorageBufferOffsetAlignment: l.minStorageBufferOffsetAlignment,
    };
    this.maxPooledBytes = options.maxPooledBytes ?? 1 << 30;
    this.kernels = new KernelCache(gpuDevice, options.onShaderCompiled);
    this.pool = new BufferPool(gpuDevice, () => this.kernels.dropBindGroups());
    this.uniforms = new UniformArena(gpuDevice, () => this.nextBufferId++);
    gpuDevice.onuncapturederror = (event) => {
      this.errors.push(event.error.message);
    };
    void gpuDevice.lost.then((info) => {
      if (info.reason !== 'destroyed') this.lostReason = info.message || info.reason;
    });
  }

  /**
   * The adapter, in words: e.g. `llvmpipe (LLVM 15.0.6, 256 bits) (mesa)`, `swiftshader (google),
   * software fallback`, `unnamed adapter, compatibility mode, no optional features`.
   */
  get name(): string {
    const notes: string[] = [];
    if (this.featureLevel === 'compatibility') notes.push('compatibility mode');
    if (this.info.isFallback) notes.push('software fallback');
    const name = adapterName(this.info);
    if (name === 'unnamed adapter' && this.features.size === 0) notes.push('no optional features');
    return [name, ...notes].join(', ');
  }

  has(feature: OptionalFeature): boolean {
    return this.features.has(feature);
  }

  /** Bytes of GPU memory held by live tensors. */
  get liveBytes(): number {
    return this.pool.liveBytes;
  }

  /** Bytes of GPU memory held by the pool's free buffers, kept for reuse. */
  get pooledBytes(): number {
    return this.pool.pooledBytes;
  }

  /** The batch being recorded; increases with each submit. */
  get batch(): number {
    return this.batchId;
  }

  // ---- kernels and dispatch ----

  /** The compiled pipeline for `code` (entry point `main`), compiled on first use only. */
  kernel(code: string, label: string): Kernel {
    return this.kernels.kernel(code, label);
  }

  /**
   * Records one dispatch into the current batch. `bindings[i]` is `@group(0) @binding(i)`.
   * Runs when the batch is submitted. `work` (FLOPs, bytes, shape) is used by profiles only.
   */
  dispatch(
    kernel: Kernel,
    bindings: readonly Binding[],
    workgroups: readonly [number, number?, number?],
    work?: DispatchWork,
  ): void {
    this.checkUsable();
    const [x, y = 1, z = 1] = workgroups;
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max)
      throw new ShapeError(`${kernel.label}: dispatch [${x}, ${y}, ${z}] exceeds ${max} workgroups per dimension`);
    if (x === 0 || y === 0 || z === 0) return;
    const refs = bindings.map((b) => this.resolveBinding(b));
    if (this.dryRuns > 0) {
      for (const observe of this.dispatchObservers) observe({ kernel, workgroups: [x, y, z], work: work ?? {} });
      return;
    }
    const group = this.kernels.bindGroup(kernel, refs);
    const pass = this.computePass();
    pass.setPipeline(kernel.pipeline);
    pass.setBindGroup(0, group);
    if (this.warmingPipelines) pass.dispatchWorkgroups(1);
    else pass.dispatchWorkgroups(x, y, z);
    this.pendingCommands++;
    this.stats.dispatches++;
    for (const observe of this.dispatchObservers) observe({ kernel, workgroups: [x, y, z], work: work ?? {} });
    if (this.recording) {
      const uniforms = bindings.flatMap((b, binding) =>
        'uniform' in b ? [{ binding, slot: refs[binding], data: bytesOf(b.uniform) }] : [],
      );
      this.recording.push({
        kind: 'dispatch',
        kernel,
        group,
        workgroups: [x, y, z],
        refs,
        uniforms,
        work: work ?? {},
      });
    }
    if (this.captured) {
      const uniforms = bindings.map((b) =>
        'uniform' in b
          ? new Uint8Array(b.uniform.buffer, b.uniform.byteOffset, b.uniform.byteLength).slice()
          : undefined,
      );
      this.captured.push({
        kernel,
        refs,
        uniforms,
        workgroups: [x, y, z],
        work: work ?? {},
        section: this.profileSection,
      });
    }
  }

  /**
   * Calls `observer` with every dispatch recorded from now on (its kernel, grid and declared work),
   * until the returned function is called: for dispatch audits and tests of which kernel ran. With
   * `dryRun`, dispatches are reported and not recorded (nothing runs: what they would write is left
   * as it was), to audit launch parameters of work too slow to run on this adapter.
   */
  observeDispatches(observer: (dispatch: ObservedDispatch) => void, options: { dryRun?: boolean } = {}): () => void {
    const wrapped = (dispatch: ObservedDispatch): void => observer(dispatch);
    this.dispatchObservers.add(wrapped);
    if (options.dryRun) this.dryRuns++;
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      this.dispatchObservers.delete(wrapped);
      if (options.dryRun) this.dryRuns--;
    };
  }

  /**
   * Records `work` with every dispatch shrunk to one workgroup, submits it and frees the buffers it
   * left in the pool; returns without waiting. Every pipeline the work uses is created, and where the
   * adapter compiles a pipeline at its first dispatch (lavapipe: LLVM, on its queue thread) compiled
   * by the GPU while the caller goes on: `FastVLM.load` warms the vision tower this way while it reads
   * the decoder's weights. What the work writes means nothing; tensors it makes are disposed at its
   * end, as in `scope`.
   */
  warmPipelines(work: () => void): void {
    this.checkUsable();
    if (!this.replayAllowed || this.warmingPipelines)
      throw new DeviceError('warmPipelines() while a recording, a profile, a dry run or a warm-up is open');
    this.submit(); // what was recorded before runs at its real size
    this.warmingPipelines = true;
    try {
      this.scope(work);
      this.submit();
    } finally {
      this.warmingPipelines = false;
    }
    this.releaseFreeBuffers();
  }

  // ---- recording and replay ----

  /**
   * Starts keeping what is recorded from now on (dispatches, copies, submits), besides recording it
   * as usual, so that `replay` can encode it again (see recorded-work.ts). Submits first, so that
   * the recording starts a batch: its uniform slots are then the same at every replay. Uploads and
   * readbacks cannot be replayed: they are refused until `endRecording()`.
   */
  beginRecording(): void {
    if (this.recording) throw new DeviceError('beginRecording(): a recording is already open');
    this.submit();
    this.recording = [];
  }

  /** Ends the recording and returns it. */
  endRecording(): RecordedWork {
    const commands = this.recording;
    if (!commands) throw new DeviceError('endRecording() without beginRecording()');
    this.recording = undefined;
    return { commands };
  }

  /**
   * Whether work may be recorded for replay, or replayed, now: not while a recording, a profile
   * (which times each dispatch as it is recorded) or a dry run (nothing would run) is open.
   */
  get replayAllowed(): boolean {
    return this.recording === undefined && this.captured === undefined && this.dryRuns === 0;
  }

  /**
   * Encodes `work` again, with `uniforms` (one per uniform binding, in order, each of the recorded
   * length) as its uniform data: the same pipelines, bind groups and workgroup counts, submitted
   * at the same points. Everything `work` binds must still exist. Throws if a uniform slot would
   * differ from the recorded one (the bind groups name the slots).
   */
  replay(work: RecordedWork, uniforms: readonly Uint8Array[]): void {
    this.checkUsable();
    if (!this.replayAllowed)
      throw new DeviceError('replay() while a recording, a profile or a dry run is open: record the work instead');
    this.submit(); // start a batch, as the recording did
    let next = 0;
    for (const command of work.commands) {
      if (command.kind === 'submit') {
        this.submit();
      } else if (command.kind === 'copy') {
        const { src, dst, byteLength } = command;
        this.commandEncoder().copyBufferToBuffer(src.buffer, src.offset, dst.buffer, dst.offset, byteLength);
        this.pendingCommands++;
      } else {
        for (const u of command.uniforms) {
          const data = uniforms[next++];
          if (data === undefined || data.byteLength !== u.data.byteLength)
            throw new DeviceError(
              `replay(): uniform ${next - 1} of ${command.kernel.label} is missing or of another length`,
            );
          const slot = this.uniforms.allocate(data);
          if (slot.bufferId !== u.slot.bufferId || slot.offset !== u.slot.offset)
            throw new DeviceError(`replay(): the uniform slots of ${command.kernel.label} moved since the recording`);
        }
        const pass = this.computePass();
        pass.setPipeline(command.kernel.pipeline);
        pass.setBindGroup(0, command.group);
        pass.dispatchWorkgroups(...command.workgroups);
        this.pendingCommands++;
        this.stats.dispatches++;
        const [x, y, z] = command.workgroups;
        for (const observe of this.dispatchObservers)
          observe({ kernel: command.kernel, workgroups: [x, y, z], work: command.work });
      }
    }
    if (next !== uniforms.length) throw new DeviceError(`replay(): ${uniforms.length} uniforms given, ${next} used`);
  }

  // ---- profiles ----

  /**
   * Starts capturing dispatches for a profile (see profiler.ts): what is recorded from now on runs
   * as usual and is also kept, to be timed dispatch by dispatch by `endProfile()`.
   */
  beginProfile(): void {
    this.submit();
    this.captured = [];
    this.profileSection = '';
  }

  /** Names the part of the work recorded from here on (e.g. 'vision', 'decode'); free when no profile is open. */
  markProfile(section: string): void {
    if (this.captured) this.profileSection = section;
  }

  get profiling(): boolean {
    return this.captured !== undefined;
  }

  /**
   * Ends the capture and times every captured dispatch alone: on the GPU's clock where the adapter
   * has `timestamp-query`, otherwise by wall time around a submit. Call before disposing what the
   * captured work used.
   */
  async endProfile(): Promise<DispatchProfile> {
    const captured = this.captured;
    if (!captured) throw new DeviceError('endProfile() without beginProfile()');
    await this.sync();
    this.captured = undefined;
    const timestamps = this.has('timestamp-query');
    try {
      const { ms, floorMs } = await timeDispatches(this.gpuDevice, captured, timestamps);
      this.raiseErrors();
      const { sections, kernels } = summariseDispatches(captured, ms);
      return {
        timing: timestamps ? 'timestamp-query' : 'cpu',
        floorMs,
        dispatches: captured.length,
        totalMs: ms.reduce((a, b) => a + b, 0),
        sections,
        kernels,
      };
    } finally {
      this.pool.trim(this.maxPooledBytes);
    }
  }

  private resolveBinding(b: Binding): BindingRef {
    if ('uniform' in b) return this.uniforms.allocate(b.uniform);
    if ('bindingRef' in b) return b.bindingRef();
    return b;
  }

  private computePass(): GPUComputePassEncoder {
    if (!this.encoder) this.encoder = this.gpuDevice.createCommandEncoder();
    if (!this.pass) this.pass = this.encoder.beginComputePass();
    return this.pass;
  }

  private commandEncoder(): GPUCommandEncoder {
    if (this.pass) {
      this.pass.end();
      this.pass = undefined;
    }
    if (!this.encoder) this.encoder = this.gpuDevice.createCommandEncoder();
    return this.encoder;
  }

  /** Records a buffer-to-buffer copy into the current batch. */
  copy(src: BindingRef, dst: BindingRef, byteLength: number): void {
    this.checkUsable();
    this.commandEncoder().copyBufferToBuffer(src.buffer, src.offset, dst.buffer, dst.offset, byteLength);
    this.pendingCommands++;
    this.recording?.push({ kind: 'copy', src, dst, byteLength });
  }

  /** Submits everything recorded so far as one command buffer. Does not wait for it. */
  submit(): void {
    this.checkUsable();
    if (this.pendingCommands === 0 && !this.encoder && this.uploadedSinceSubmit === 0) return;
    this.uploadedSinceSubmit = 0;
    const encoder = this.commandEncoder();
    this.uniforms.flush(this.gpuDevice.queue);
    this.gpuDevice.queue.submit([encoder.finish()]);
    this.encoder = undefined;
    this.pendingCommands = 0;
    this.batchId++;
    this.stats.submits++;
    this.recording?.push({ kind: 'submit' });
    if (!this.captured) this.pool.trim(this.maxPooledBytes); // a profile replays captured buffers
  }

  /**
   * Submits what is recorded and destroys the free buffers the pool keeps for reuse: for after a
   * step that freed buffers no later request will fit, such as load-time fusions replacing the
   * tensors they stacked (a stack is larger than any of its parts).
   */
  releaseFreeBuffers(): void {
    this.submit();
    if (!this.captured) this.pool.trim(0);
  }

  /** Submits and waits until the GPU has finished all work; raises any GPU error seen. */
  async sync(): Promise<void> {
    this.submit();
    await this.gpuDevice.queue.onSubmittedWorkDone();
    this.raiseErrors();
  }

  // ---- memory ----

  allocate(byteLength: number, label?: string): PooledBuffer {
    this.checkUsable();
    if (byteLength > this.limits.maxBufferSize) {
      throw new ShapeError(
        `a buffer of ${byteLength} bytes exceeds the adapter's maxBufferSize ${this.limits.maxBufferSize}`,
      );
    }
    return this.pool.acquire(byteLength, label);
  }

  /** Free pooled buffers among `ids`, taken out of reuse until each is given back by `release` (see BufferPool.reserve). */
  reserveFreeBuffers(ids: ReadonlySet<number>): PooledBuffer[] {
    return this.pool.reserve(ids);
  }

  release(entry: PooledBuffer): void {
    this.pool.release(entry, this.batchId);
  }

  /** Writes `data` at `offset` of a pooled buffer, after any recorded command that might still read its old contents. */
  upload(entry: PooledBuffer, offset: number, data: ArrayBufferView): void {
    this.checkUsable();
    if (this.recording) throw new DeviceError('upload() while a recording is open: uploads cannot be replayed');
    if (entry.freedInBatch === this.batchId && this.pendingCommands > 0) this.submit();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    // writeBuffer stages a copy that is recycled only after a submit: loading a whole model
    // without one would hold a second copy of every weight.
    this.uploadedSinceSubmit += bytes.byteLength;
    if (this.uploadedSinceSubmit > UPLOAD_SUBMIT_BYTES) this.submit();
    const whole = bytes.byteLength & ~3;
    if (whole > 0) this.gpuDevice.queue.writeBuffer(entry.buffer, offset, bytes, 0, whole);
    if (whole < bytes.byteLength) {
      const tail = new Uint8Array(4);
      tail.set(bytes.subarray(whole));
      this.gpuDevice.queue.writeBuffer(entry.buffer, offset + whole, tail);
    }
  }

  /** Reads byte ranges back to the CPU (submitting the batch first). One ArrayBuffer per range. */
  async read(ranges: readonly BindingRef[]): Promise<ArrayBuffer[]> {
    this.checkUsable();
    if (this.recording) throw new DeviceError('read() while a recording is open: readbacks cannot be replayed');
    const encoder = this.commandEncoder();
    const staging = ranges.map((r) => {
      const size = Math.ceil(r.size / 4) * 4;
      const buffer = this.gpuDevice.createBuffer({
        size: Math.max(4, size),
        usage: 0x01 /* MAP_READ */ | 0x08 /* COPY_DST */,
      });
      if (size > 0) encoder.copyBufferToBuffer(r.buffer, r.offset, buffer, 0, size);
      return buffer;
    });
    this.pendingCommands++;
    this.submit();
    this.stats.readbacks++;
    try {
      await Promise.all(staging.map((b) => b.mapAsync(0x01 /* READ */)));
      this.raiseErrors();
      return staging.map((b, i) =>
        b.getMappedRange(0, Math.ceil(ranges[i].size / 4) * 4 || 4).slice(0, ranges[i].size),
      );
    } catch (cause) {
      this.raiseErrors();
      throw new DeviceError(`reading back from the GPU failed: ${String(cause)}`, { cause });
    } finally {
      for (const b of staging) b.destroy();
    }
  }

  // ---- scopes ----

  /** Runs `fn`; tensors created inside and not returned are disposed when it ends. */
  scope<T>(fn: () => T): T {
    return this.scopes.run(fn);
  }

  /** `scope` for async functions; do not interleave two async scopes on one device. */
  scopeAsync<T>(fn: () => Promise<T>): Promise<T> {
    return this.scopes.runAsync(fn);
  }

  track(item: Disposable): void {
    this.scopes.track(item);
  }

  // ---- errors and teardown ----

  private checkUsable(): void {
    if (this.lostReason !== undefined) throw new DeviceError(`the GPU device was lost: ${this.lostReason}`);
  }

  private raiseErrors(): void {
    if (this.lostReason !== undefined) throw new DeviceError(`the GPU device was lost: ${this.lostReason}`);
    if (this.errors.length > 0) {
      const messages = this.errors.splice(0);
      throw new DeviceError(`GPU error: ${messages.join('; ')}`);
    }
  }

  destroy(): void {
    this.uniforms.destroy();
    this.pool.trim(0);
    this.gpuDevice.destroy();
  }
}

/** A copy of a view's bytes. */
function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
}

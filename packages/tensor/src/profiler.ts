/**
 * A per-dispatch profile of recorded work. While a capture is open the device keeps, for every
 * dispatch it records, the pipeline, what it binds (uniform data copied, because the uniform arena
 * is reused by the next batch) and the work it declares. The work runs as usual; afterwards each
 * captured dispatch is run again on its own and timed:
 *
 * - with `timestamp-query`, every dispatch gets a compute pass with timestamp writes, all in a few
 *   command buffers: the times are the GPU's own, without submit or readback overhead;
 * - without it, every dispatch is submitted alone and awaited: CPU-side wall time, which includes
 *   the submit/wait floor (measured once with an empty submit and reported, not subtracted).
 *
 * Replaying needs the captured buffers to stay alive: the device stops trimming its pool while a
 * capture is open, and the caller profiles before disposing what the work used.
 */
import type { BindingRef, Kernel } from './kernel-cache.js';

/** What a dispatch computes, declared by the kernel's launcher. */
export interface DispatchWork {
  /** Floating-point operations (a multiply-add counts 2). */
  flops?: number;
  /** Bytes the dispatch must at least read and write. */
  bytes?: number;
  /** The shape it works on, e.g. `[4096x384]->1536 f16`; a kernel's dispatches are grouped by it. */
  detail?: string;
  /** How its invocations read memory, for dispatch audits (see tools/src/bench/dispatch-audit.ts). */
  access?: DispatchAccess;
}

/** How a dispatch's invocations read memory, as its launcher lays them out. */
export interface DispatchAccess {
  /** Bytes of input one invocation reads (the largest where invocations differ). */
  bytesPerInvocation: number;
  /** Whether neighbouring invocations read neighbouring addresses of the operand that dominates the bytes. */
  coalesced: boolean;
  /** The layout in words. */
  pattern: string;
}

export interface CapturedDispatch {
  kernel: Kernel;
  refs: BindingRef[];
  /** Per binding: the uniform data it held, or undefined for a storage binding. */
  uniforms: (Uint8Array | undefined)[];
  workgroups: [number, number, number];
  work: DispatchWork;
  /** The section named by the last `Device.markProfile` before it. */
  section: string;
}

/** The dispatches of one kernel label and detail within a section, summed. */
export interface KernelProfile {
  section: string;
  label: string;
  detail: string;
  dispatches: number;
  ms: number;
  flops: number;
  bytes: number;
}

export interface DispatchProfile {
  /** How the dispatches were timed. */
  timing: 'timestamp-query' | 'cpu';
  /** CPU timing only: the wall time of an empty submit-and-wait, included in every dispatch's time. */
  floorMs: number;
  dispatches: number;
  /** Sum over all dispatches. */
  totalMs: number;
  /** In the order they were first marked. */
  sections: SectionProfile[];
  /** Most time first. */
  kernels: KernelProfile[];
}

export interface SectionProfile {
  name: string;
  dispatches: number;
  ms: number;
  flops: number;
}

const UNIFORM_ALIGN = 256;
/** Dispatches timed per command buffer (two timestamps each; a query set holds at most 4096). */
const CHUNK = 1024;

/** Runs each captured dispatch alone and returns its time in milliseconds. */
export async function timeDispatches(
  device: GPUDevice,
  captured: readonly CapturedDispatch[],
  timestamps: boolean,
): Promise<{ ms: number[]; floorMs: number }> {
  const ms: number[] = [];
  let floorMs = 0;
  if (!timestamps) floorMs = await emptySubmitMs(device);
  for (let start = 0; start < captured.length; start += CHUNK) {
    const chunk = captured.slice(start, start + CHUNK);
    const { groups, uniformBuffer } = replayBindGroups(device, chunk);
    try {
      ms.push(
        ...(timestamps ? await timeWithQueries(device, chunk, groups) : await timeWithWallClock(device, chunk, groups)),
      );
    } finally {
      uniformBuffer?.destroy();
    }
  }
  return { ms, floorMs };
}

/** Bind groups for replaying `chunk`, with the captured uniform data in a buffer of its own. */
function replayBindGroups(
  device: GPUDevice,
  chunk: readonly CapturedDispatch[],
): { groups: GPUBindGroup[]; uniformBuffer?: GPUBuffer } {
  let uniformBytes = 0;
  for (const d of chunk)
    for (const u of d.uniforms) if (u) uniformBytes += Math.ceil(u.byteLength / UNIFORM_ALIGN) * UNIFORM_ALIGN;
  const uniformBuffer =
    uniformBytes > 0
      ? device.createBuffer({
          size: uniformBytes,
          usage: 0x40 /* UNIFORM */ | 0x08 /* COPY_DST */,
          label: 'profile-uniforms',
        })
      : undefined;
  let offset = 0;
  const groups = chunk.map((d) => {
    const entries = d.refs.map((ref, binding) => {
      const data = d.uniforms[binding];
      if (!data || !uniformBuffer)
        return { binding, resource: { buffer: ref.buffer, offset: ref.offset, size: ref.size } };
      device.queue.writeBuffer(uniformBuffer, offset, data);
      const resource = { buffer: uniformBuffer, offset, size: ref.size };
      offset += Math.ceil(data.byteLength / UNIFORM_ALIGN) * UNIFORM_ALIGN;
      return { binding, resource };
    });
    return device.createBindGroup({ layout: d.kernel.layout, entries, label: `profile ${d.kernel.label}` });
  });
  return { groups, uniformBuffer };
}

async function timeWithQueries(
  device: GPUDevice,
  chunk: readonly CapturedDispatch[],
  groups: readonly GPUBindGroup[],
): Promise<number[]> {
  const count = chunk.length * 2;
  const querySet = device.createQuerySet({ type: 'timestamp', count });
  const resolved = device.createBuffer({ size: count * 8, usage: 0x200 /* QUERY_RESOLVE */ | 0x04 /* COPY_SRC */ });
  const staging = device.createBuffer({ size: count * 8, usage: 0x01 /* MAP_READ */ | 0x08 /* COPY_DST */ });
  try {
    const encoder = device.createCommandEncoder({ label: 'profile' });
    chunk.forEach((d, i) => {
      const pass = encoder.beginComputePass({
        timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
      });
      pass.setPipeline(d.kernel.pipeline);
      pass.setBindGroup(0, groups[i]);
      pass.dispatchWorkgroups(...d.workgroups);
      pass.end();
    });
    encoder.resolveQuerySet(querySet, 0, count, resolved, 0);
    encoder.copyBufferToBuffer(resolved, 0, staging, 0, count * 8);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(0x01 /* READ */);
    const ticks = new BigInt64Array(staging.getMappedRange().slice(0));
    staging.unmap();
    return chunk.map((_, i) => Math.max(0, Number(ticks[2 * i + 1] - ticks[2 * i])) / 1e6);
  } finally {
    querySet.destroy();
    resolved.destroy();
    staging.destroy();
  }
}

async function timeWithWallClock(
  device: GPUDevice,
  chunk: readonly CapturedDispatch[],
  groups: readonly GPUBindGroup[],
): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < chunk.length; i++) {
    const d = chunk[i];
    const started = performance.now();
    const encoder = device.createCommandEncoder({ label: 'profile' });
    const pass = encoder.beginComputePass();
    pass.setPipeline(d.kernel.pipeline);
    pass.setBindGroup(0, groups[i]);
    pass.dispatchWorkgroups(...d.workgroups);
    pass.end();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    ms.push(performance.now() - started);
  }
  return ms;
}

async function emptySubmitMs(device: GPUDevice): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    device.queue.submit([device.createCommandEncoder().finish()]);
    await device.queue.onSubmittedWorkDone();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

/** Sums the timed dispatches per section, and per section, kernel label and detail (most time first). */
export function summariseDispatches(
  captured: readonly CapturedDispatch[],
  ms: readonly number[],
): { sections: SectionProfile[]; kernels: KernelProfile[] } {
  const sections = new Map<string, SectionProfile>();
  const kernels = new Map<string, KernelProfile>();
  captured.forEach((d, i) => {
    const detail = d.work.detail ?? '';
    let section = sections.get(d.section);
    if (!section) sections.set(d.section, (section = { name: d.section, dispatches: 0, ms: 0, flops: 0 }));
    section.dispatches++;
    section.ms += ms[i];
    section.flops += d.work.flops ?? 0;
    const key = `${d.section}\u0000${d.kernel.label}\u0000${detail}`;
    let entry = kernels.get(key);
    if (!entry)
      kernels.set(
        key,
        (entry = { section: d.section, label: d.kernel.label, detail, dispatches: 0, ms: 0, flops: 0, bytes: 0 }),
      );
    entry.dispatches++;
    entry.ms += ms[i];
    entry.flops += d.work.flops ?? 0;
    entry.bytes += d.work.bytes ?? 0;
  });
  return { sections: [...sections.values()], kernels: [...kernels.values()].sort((a, b) => b.ms - a.ms) };
}

/**
 * GPU work recorded once and encoded again without the code that recorded it: each dispatch's
 * pipeline, bind group and workgroup counts, its uniform data, copies and the points where the
 * batch was submitted (see `Device.beginRecording`). A decode step records ~200 dispatches through
 * the model's JS (tensors, kernel choice, bind-group lookups: 12-20 ms a step on a CPU adapter);
 * replaying the same list costs only WebGPU's encoding calls.
 *
 * What may change between replays is uniform data only: buffers, bind groups and workgroup counts
 * are the recording's. `learnStep` finds which uniform words advance from one step to the next (a
 * decode step's position and attended length) by comparing two recordings of consecutive steps;
 * the caller checks its prediction against a third recording before trusting it.
 */
import type { BindingRef, Kernel } from './kernel-cache.js';
import type { DispatchWork } from './profiler.js';

export interface RecordedUniform {
  /** Index of the binding among the dispatch's bindings. */
  binding: number;
  /** The arena slot it was written to; a replay must land in the same slot (the bind group names it). */
  slot: BindingRef;
  data: Uint8Array;
}

export type RecordedCommand =
  | {
      kind: 'dispatch';
      kernel: Kernel;
      group: GPUBindGroup;
      workgroups: readonly [number, number, number];
      /** Every binding, resolved (uniform slots included). */
      refs: readonly BindingRef[];
      uniforms: readonly RecordedUniform[];
      /** What the dispatch declared (for observers of the replay). */
      work: DispatchWork;
    }
  | { kind: 'copy'; src: BindingRef; dst: BindingRef; byteLength: number }
  | { kind: 'submit' };

export interface RecordedWork {
  readonly commands: readonly RecordedCommand[];
}

/** The uniform data of every dispatch of `work`, in order (what `Device.replay` takes). */
export function recordedUniforms(work: RecordedWork): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of work.commands) if (c.kind === 'dispatch') for (const u of c.uniforms) out.push(u.data);
  return out;
}

/** Ids of the buffers `work` binds or copies (uniform arena pages included). */
export function recordedBufferIds(work: RecordedWork): Set<number> {
  const ids = new Set<number>();
  for (const c of work.commands) {
    if (c.kind === 'dispatch') for (const r of c.refs) ids.add(r.bufferId);
    else if (c.kind === 'copy') ids.add(c.src.bufferId).add(c.dst.bufferId);
  }
  return ids;
}

const sameRef = (a: BindingRef, b: BindingRef): boolean =>
  a.bufferId === b.bufferId && a.offset === b.offset && a.size === b.size;

/**
 * Whether `a` and `b` are the same commands on the same buffers (bind groups, pipelines, workgroup
 * counts, copies, submit points, uniform slots and sizes), whatever their uniform values.
 */
export function sameStructure(a: RecordedWork, b: RecordedWork): boolean {
  if (a.commands.length !== b.commands.length) return false;
  return a.commands.every((x, i) => {
    const y = b.commands[i];
    if (x.kind !== y.kind) return false;
    if (x.kind === 'submit') return true;
    if (x.kind === 'copy')
      return y.kind === 'copy' && sameRef(x.src, y.src) && sameRef(x.dst, y.dst) && x.byteLength === y.byteLength;
    if (y.kind !== 'dispatch') return false;
    return (
      x.kernel === y.kernel &&
      x.group === y.group &&
      x.workgroups.every((n, j) => n === y.workgroups[j]) &&
      x.uniforms.length === y.uniforms.length &&
      x.uniforms.every(
        (u, j) =>
          u.binding === y.uniforms[j].binding &&
          sameRef(u.slot, y.uniforms[j].slot) &&
          u.data.byteLength === y.uniforms[j].data.byteLength,
      )
    );
  });
}

/**
 * Uniform data as an affine function of the step: word w of step k is `base[w] + k * delta[w]`
 * (32-bit wrapping integers, so a u32 position and a kv length that advance by one each step are
 * exact). Step 0 is the first recording.
 */
export class StepUniforms {
  private constructor(
    private readonly base: readonly Uint8Array[],
    private readonly delta: readonly (Int32Array | undefined)[],
  ) {}

  /**
   * From recordings of two consecutive steps of the same structure (else undefined). Uniform data
   * whose length is not a multiple of 4 bytes must not change.
   */
  static learn(first: RecordedWork, second: RecordedWork): StepUniforms | undefined {
    if (!sameStructure(first, second)) return undefined;
    const a = recordedUniforms(first);
    const b = recordedUniforms(second);
    const delta: (Int32Array | undefined)[] = [];
    for (let i = 0; i < a.length; i++) {
      if (a[i].byteLength % 4 !== 0) {
        if (!a[i].every((byte, j) => byte === b[i][j])) return undefined;
        delta.push(undefined);
        continue;
      }
      const wa = words(a[i]);
      const wb = words(b[i]);
      const d = new Int32Array(wa.length);
      for (let w = 0; w < wa.length; w++) d[w] = (wb[w] - wa[w]) | 0;
      delta.push(d.some((v) => v !== 0) ? d : undefined);
    }
    return new StepUniforms(
      a.map((data) => data.slice()),
      delta,
    );
  }

  /** The uniform data of step `k` (0: the first recording). */
  at(k: number): Uint8Array[] {
    return this.base.map((data, i) => {
      const d = this.delta[i];
      if (!d) return data;
      const out = data.slice();
      const w = words(out);
      for (let j = 0; j < w.length; j++) w[j] = (w[j] + Math.imul(k, d[j])) >>> 0;
      return out;
    });
  }

  /** Whether `work` is step `k`: the same structure as the first recording and exactly the predicted uniform bytes. */
  predicts(work: RecordedWork, k: number, structureOf: RecordedWork): boolean {
    if (!sameStructure(structureOf, work)) return false;
    const predicted = this.at(k);
    const actual = recordedUniforms(work);
    return predicted.every(
      (p, i) => p.byteLength === actual[i].byteLength && p.every((byte, j) => byte === actual[i][j]),
    );
  }
}

function words(bytes: Uint8Array): Uint32Array {
  return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

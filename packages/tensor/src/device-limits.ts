/**
 * The device limits our kernels rely on, in one table. `createDevice` requests each at the value the
 * kernels want (or the adapter's own value when that is lower) and nothing else, so a device never
 * depends on a default that differs between adapters (a compatibility-mode adapter defaults to 128
 * invocations per workgroup dimension and 4 storage buffers per stage). An adapter below a `need`
 * is refused up front with a message naming the limit. A kernel that needs more edits this table.
 */
import { DeviceError } from './errors.js';

export interface LimitNeed {
  /** Below this the kernels cannot run: the adapter is refused. */
  need: number;
  /** Requested up to this (Infinity: as much as the adapter offers). */
  want: number;
  /** Which kernels set the figure. */
  why: string;
}

const MiB = 1024 * 1024;

export const KERNEL_LIMITS = {
  maxComputeInvocationsPerWorkgroup: {
    need: 256,
    want: 256,
    why: 'elementwise, embedding, softmax, sampling and splice kernels run 256 invocations per workgroup',
  },
  maxComputeWorkgroupSizeX: {
    need: 256,
    want: 256,
    why: 'every workgroup is one-dimensional, up to 256 wide',
  },
  maxStorageBuffersPerShaderStage: {
    need: 8,
    want: 8,
    why: 'a linear layer with int8 scales, bias, residual and layer scale binds 7 storage buffers',
  },
  maxComputeWorkgroupStorageSize: {
    need: 16384,
    want: 16912,
    why: "causal attention's subgroup split kernel keeps 64 lanes' partial sums and a team counter (16912 bytes); the rest fit in 16 KiB",
  },
  maxStorageBufferBindingSize: {
    need: 128 * MiB,
    want: Infinity,
    why: 'tensors are split into row blocks no larger than one binding: larger blocks, fewer dispatches',
  },
  maxBufferSize: {
    need: 256 * MiB,
    want: Infinity,
    why: 'a block is one buffer',
  },
  maxComputeWorkgroupsPerDimension: {
    need: 65535,
    want: Infinity,
    why: 'dispatch grids fold into a second dimension above this',
  },
} as const satisfies Record<string, LimitNeed>;

export type KernelLimitName = keyof typeof KERNEL_LIMITS;
export const KERNEL_LIMIT_NAMES = Object.keys(KERNEL_LIMITS) as KernelLimitName[];

/** Lower caps on what is requested (e.g. a small binding size, to exercise row-block paths). */
export type LimitCaps = Partial<Record<KernelLimitName, number>>;

/**
 * The `requiredLimits` for `requestDevice`: every limit of the table at min(want, cap, adapter).
 * Throws `DeviceError` naming the first limit the adapter offers below the kernels' need.
 */
export function requiredLimitsFor(
  adapterLimits: GPUSupportedLimits,
  adapterName: string,
  caps: LimitCaps = {},
): Record<KernelLimitName, number> {
  const required = {} as Record<KernelLimitName, number>;
  for (const name of KERNEL_LIMIT_NAMES) {
    const { need, want, why } = KERNEL_LIMITS[name];
    const offered = adapterLimits[name];
    if (typeof offered !== 'number' || offered < need) {
      throw new DeviceError(
        `the adapter ${adapterName} is too small for these kernels: ${name} is ${offered ?? 'missing'}, ` +
          `at least ${need} is needed (${why})`,
      );
    }
    const cap = caps[name];
    if (cap !== undefined && !(Number.isInteger(cap) && cap > 0)) {
      throw new DeviceError(`createDevice: the cap on ${name} must be a positive integer, got ${cap}`);
    }
    required[name] = Math.min(offered, want, cap ?? Infinity);
  }
  return required;
}

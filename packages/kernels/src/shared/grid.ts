/**
 * Shared WGSL grid indexing. A 1-D launch of more than 65535 workgroups is folded into a 2-D grid
 * (`grid1d`); the kernel recovers its flat invocation index with `flatIndex()`.
 */
import type { Device } from '@fastvlm/tensor';

/** Workgroups for `count` invocations of `workgroupSize` each, as [x, y] with x within the device's limit. */
export function grid1d(device: Device, count: number, workgroupSize: number): [number, number] {
  const groups = Math.ceil(count / workgroupSize);
  const max = device.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= max) return [groups, 1];
  const y = Math.ceil(groups / max);
  return [Math.ceil(groups / y), y];
}

/** WGSL expression of the flat invocation index in a `grid1d` launch (needs `gid` and `nwg` builtins). */
export function flatIndex(workgroupSize: number): string {
  return `(gid.x + gid.y * nwg.x * ${workgroupSize}u)`;
}

/** WGSL builtin parameters that `flatIndex` expects. */
export const GRID_BUILTINS = '@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>';

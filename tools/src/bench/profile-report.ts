/** The per-kernel profile of one forward as text: time per section, then the kernels that take it. */
import type { DispatchProfile } from '@fastvlm/tensor';
import { formatMs, formatRate, formatTable } from './table.js';

/** Sections, then the `top` kernels (by label, shape and section) with their share and rates. */
export function formatProfile(profile: DispatchProfile, top = 25): string {
  const timing =
    profile.timing === 'timestamp-query'
      ? 'GPU timestamps'
      : `CPU wall time per submitted dispatch (includes a ${formatMs(profile.floorMs)} ms submit/wait floor)`;
  const sectionRows = profile.sections.map((s) => [
    s.name || '(unmarked)',
    String(s.dispatches),
    formatMs(s.ms),
    formatRate(s.flops > 0 ? s.flops / s.ms / 1e6 : undefined, 'GFLOP/s'),
  ]);
  const kernelRows = profile.kernels
    .slice(0, top)
    .map((k) => [
      `${k.label} ${k.detail}`.trim(),
      k.section,
      String(k.dispatches),
      formatMs(k.ms),
      `${((100 * k.ms) / profile.totalMs).toFixed(1)}%`,
      formatRate(k.flops > 0 ? k.flops / k.ms / 1e6 : undefined, 'GFLOP/s'),
      formatRate(k.bytes > 0 ? k.bytes / k.ms / 1e6 : undefined, 'GB/s'),
    ]);
  return [
    `per-kernel profile: ${profile.dispatches} dispatches, each re-run alone and timed by ${timing}; sum ${formatMs(profile.totalMs)} ms`,
    '',
    formatTable(['section', 'dispatches', 'ms', 'rate'], sectionRows),
    '',
    formatTable(['kernel', 'section', 'dispatches', 'ms', 'share', 'compute', 'memory'], kernelRows),
  ].join('\n');
}

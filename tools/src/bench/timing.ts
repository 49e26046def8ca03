/** Timing helpers for benchmarks: run a GPU workload to completion repeatedly and summarise. */
import type { Device } from '@fastvlm/tensor';

export interface Timing {
  minMs: number;
  medianMs: number;
  runs: number;
}

export function summarise(samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  return { minMs: sorted[0], medianMs: sorted[Math.floor(sorted.length / 2)], runs: sorted.length };
}

/**
 * Times `record` (which records GPU work) from recording to completion: one warm-up run (compiles
 * pipelines), then runs until `minRuns` are done and at least `minTotalMs` has passed (capped at `maxRuns`).
 */
export async function timeGpu(
  device: Device,
  record: () => void,
  options: { minRuns?: number; maxRuns?: number; minTotalMs?: number } = {},
): Promise<Timing> {
  const { minRuns = 3, maxRuns = 20, minTotalMs = 300 } = options;
  record();
  await device.sync();
  const samples: number[] = [];
  const started = performance.now();
  while (samples.length < minRuns || (performance.now() - started < minTotalMs && samples.length < maxRuns)) {
    const t0 = performance.now();
    record();
    await device.sync();
    samples.push(performance.now() - t0);
  }
  return summarise(samples);
}

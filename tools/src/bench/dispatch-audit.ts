/**
 * `npm run bench:audit`: the dispatch audit of a decode step and of the vision tower, for each
 * kernel shape ('cpu': today's lavapipe-tuned layouts; 'gpu': the layouts for real GPUs), forced
 * on whatever adapter this runs on. Every dispatch is observed as it is recorded
 * (`Device.observeDispatches`): invocations per dispatch come from its grid and the kernel's
 * `@workgroup_size`, bytes read per invocation and whether neighbouring invocations read
 * neighbouring addresses from what the launcher declares (`DispatchWork.access`); a kernel that
 * declares no access pattern shows its bytes averaged over its invocations, marked "(avg)".
 *
 *   node tools/dist/bench/dispatch-audit.js --model DIR [--dtype f16|int8|f32] [--position 280] [--shapes cpu,gpu] [--parts decode,tower]
 *
 * The decode step is one token at `--position` (the cache is sized and marked as holding that many
 * positions; their contents do not change the dispatches). The work is observed as a dry run
 * (recorded, not run: the 'gpu' shape's tiled GEMM would take minutes on a CPU adapter), so the
 * figures are launch parameters, not timings, and do not depend on the machine's load.
 */
import { basename } from 'node:path';
import { FastVLM } from '@fastvlm/llava';
import { createDevice, KERNEL_SHAPES, Tensor, type KernelShape, type ObservedDispatch } from '@fastvlm/tensor';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

/** One row of the audit: the dispatches of one kernel on one shape. */
interface AuditRow {
  label: string;
  detail: string;
  dispatches: number;
  invocations: number;
  bytesPerInvocation: number;
  declared: boolean;
  coalesced: boolean | undefined;
  bytes: number;
}

function workgroupSize(source: string): number {
  const match = /@workgroup_size\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?(?:,\s*(\d+)\s*)?\)/.exec(source);
  if (!match) throw new Error('a kernel without @workgroup_size');
  return [match[1], match[2], match[3]].reduce((n, v) => n * (v === undefined ? 1 : Number(v)), 1);
}

function auditRows(dispatches: readonly ObservedDispatch[]): AuditRow[] {
  const rows = new Map<string, AuditRow>();
  for (const { kernel, workgroups, work } of dispatches) {
    const invocations = workgroups[0] * workgroups[1] * workgroups[2] * workgroupSize(kernel.source);
    const key = `${kernel.label}|${work.detail ?? ''}`;
    const row = rows.get(key);
    const perInvocation = work.access?.bytesPerInvocation ?? (work.bytes ?? 0) / invocations;
    if (row) {
      row.dispatches++;
      row.invocations = Math.max(row.invocations, invocations);
      row.bytesPerInvocation = Math.max(row.bytesPerInvocation, perInvocation);
      row.bytes += work.bytes ?? 0;
    } else {
      rows.set(key, {
        label: kernel.label,
        detail: work.detail ?? '',
        dispatches: 1,
        invocations,
        bytesPerInvocation: perInvocation,
        declared: work.access !== undefined,
        coalesced: work.access?.coalesced,
        bytes: work.bytes ?? 0,
      });
    }
  }
  return [...rows.values()].sort((a, b) => b.bytes - a.bytes);
}

function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i < 2 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${Math.round(n)} B`;
}

function printAudit(title: string, shape: KernelShape, dispatches: readonly ObservedDispatch[], top: number): void {
  const rows = auditRows(dispatches);
  const total = rows.reduce((n, r) => n + r.bytes, 0);
  const coalescedBytes = rows.filter((r) => r.coalesced === true).reduce((n, r) => n + r.bytes, 0);
  const undeclaredBytes = rows.filter((r) => !r.declared).reduce((n, r) => n + r.bytes, 0);
  const invocations = dispatches.reduce(
    (n, d) => n + d.workgroups[0] * d.workgroups[1] * d.workgroups[2] * workgroupSize(d.kernel.source),
    0,
  );
  process.stdout.write(
    `\n### ${title}, '${shape}' kernel shape\n\n` +
      `${dispatches.length} dispatches, ${invocations} invocations in all; ${formatBytes(total)} declared traffic, ` +
      `${((100 * coalescedBytes) / Math.max(total, 1)).toFixed(0)}% of it in coalesced kernels, ` +
      `${((100 * undeclaredBytes) / Math.max(total, 1)).toFixed(0)}% in kernels that declare no access pattern. ` +
      `The ${Math.min(top, rows.length)} kernels moving the most bytes:\n\n`,
  );
  process.stdout.write(
    markdownTable(
      ['kernel', 'shape', 'dispatches', 'invocations / dispatch', 'bytes read / invocation', 'neighbours adjacent'],
      rows
        .slice(0, top)
        .map((r) => [
          `\`${r.label}\``,
          r.detail,
          String(r.dispatches),
          String(r.invocations),
          `${formatBytes(r.bytesPerInvocation)}${r.declared ? '' : ' (avg)'}`,
          r.coalesced === undefined ? '-' : r.coalesced ? 'yes' : 'no',
        ]),
    ) + '\n',
  );
}

async function audit(
  shape: KernelShape,
  folder: string,
  dtype: 'f16' | 'int8' | 'f32',
  position: number,
  top: number,
  parts: readonly string[],
): Promise<void> {
  const device = await createDevice({ kernelShape: shape });
  const model = await FastVLM.load(folder, { device, dtype });
  try {
    if (parts.includes('decode')) {
      // one decode step at `position`
      const observed: ObservedDispatch[] = [];
      const stop = device.observeDispatches((d) => observed.push(d), { dryRun: true });
      const cache = model.llm.createCache(position + 1);
      try {
        cache.length = position;
        const logits = model.llm.forward({ ids: [151644] }, cache, position, 'last');
        await logits.read();
        logits.dispose();
      } finally {
        cache.dispose();
        stop();
      }
      printAudit(`Decode step at position ${position} (${dtype})`, shape, observed, top);
    }
    if (parts.includes('tower')) {
      // the vision tower on one image
      const tower: ObservedDispatch[] = [];
      const stop = device.observeDispatches((d) => tower.push(d), { dryRun: true });
      const N = model.config.imageSize;
      try {
        const features = device.scope(() => {
          const pixels = Tensor.fromArray(device, new Float32Array(N * N * 3).fill(0.5), [N, N, 3], 'f32');
          return model.vision.encode(pixels);
        });
        await features.read();
        features.dispose();
      } finally {
        stop();
      }
      printAudit(`Vision tower at ${N} px (${model.visionDtype})`, shape, tower, top);
    }
  } finally {
    model.dispose();
    device.destroy();
  }
}

async function main(): Promise<void> {
  const folder = arg('--model', '');
  if (!folder)
    throw new Error('--model DIR is required (e.g. a folder written by `fastvlm init-random DIR --preset 0.5b`)');
  const dtype = arg('--dtype', 'f16') as 'f16' | 'int8' | 'f32';
  const position = Number(arg('--position', '280'));
  const top = Number(arg('--top', '12'));
  const shapes = arg('--shapes', KERNEL_SHAPES.join(',')).split(',') as KernelShape[];
  process.stdout.write(
    `Model folder \`${basename(folder)}\`, \`--dtype ${dtype}\`, adapter-independent (a dry run).\n`,
  );
  const parts = arg('--parts', 'decode,tower').split(',');
  for (const shape of shapes) await audit(shape, folder, dtype, position, top, parts);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

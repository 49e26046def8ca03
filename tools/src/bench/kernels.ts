/**
 * `npm run bench:kernels`: each kernel at the real FastVLM-0.5B shapes on the current adapter, then
 * the same op in PyTorch on this machine's CPU (fp32), side by side in one run.
 *
 *   node tools/dist/bench/kernels.js [--filter SUBSTRING] [--no-torch] [--json]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDevice } from '@fastvlm/tensor';
import { KERNEL_CASES } from './kernel-cases.js';
import { formatMs, formatRate, formatTable } from './table.js';
import { timeGpu, type Timing } from './timing.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function runTorch(
  cases: typeof KERNEL_CASES,
): Record<string, Timing> & { __meta__?: { torch: string; threads: number } } {
  const python = process.env.FASTVLM_PYTHON ?? join(ROOT, '.venv/bin/python');
  if (!existsSync(python)) {
    console.error(`(no PyTorch: ${python} is missing; run 'bash tools/setup/python-env.sh')`);
    return {};
  }
  const input = JSON.stringify(cases.map((c) => ({ name: c.name, torch: c.torch })));
  const result = spawnSync(python, [join(ROOT, 'tools/python/bench_kernels_torch.py')], {
    input,
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (result.status !== 0) {
    console.error(`PyTorch side failed: ${result.stderr}`);
    return {};
  }
  return JSON.parse(result.stdout) as Record<string, Timing>;
}

function rate(c: (typeof KERNEL_CASES)[number], ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (c.flops) return formatRate(c.flops / ms / 1e6, 'GFLOP/s');
  if (c.bytes) return formatRate(c.bytes / ms / 1e6, 'GB/s');
  return '-';
}

async function main(): Promise<void> {
  const filter = argValue('--filter');
  const cases = KERNEL_CASES.filter((c) => !filter || c.name.includes(filter));
  const names = new Set(cases.map((c) => c.name));
  if (names.size !== cases.length) throw new Error('benchmark case names must be unique');
  const device = await createDevice();
  console.log(`adapter: ${device.name}  features: ${[...device.features].join(', ')}`);
  const ours: Record<string, Timing> = {};
  for (const c of cases) {
    const instance = c.setup(device);
    ours[c.name] = await timeGpu(device, instance.run);
    instance.dispose();
    await device.sync();
    process.stderr.write(`  ${c.name}: ${formatMs(ours[c.name].medianMs)} ms\n`);
  }
  device.destroy();
  const torch = process.argv.includes('--no-torch') ? {} : runTorch(cases);
  const meta = (torch as { __meta__?: { torch: string; threads: number } }).__meta__;
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ adapter: device.name, ours, torch }, null, 2));
    return;
  }
  const rows = cases.map((c) => {
    const a = ours[c.name]?.medianMs;
    const b = torch[c.name]?.medianMs;
    return [
      c.name,
      formatMs(a),
      rate(c, a),
      formatMs(b),
      rate(c, b),
      a !== undefined && b !== undefined ? (a / b).toFixed(2) : '-',
    ];
  });
  console.log(
    `\nmedian of repeated runs, each submitted and awaited; PyTorch ${meta ? `${meta.torch} CPU fp32, ${meta.threads} threads` : 'not run'}\n`,
  );
  console.log(
    formatTable(['kernel (shape, weights)', 'ours ms', 'ours rate', 'torch ms', 'torch rate', 'ours/torch'], rows),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

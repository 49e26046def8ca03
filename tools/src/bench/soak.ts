/**
 * `npm run bench:soak`: many generations mixing good and bad requests, aborts, chats and disposes
 * across two models on one device, with the device's live GPU bytes and the process's RSS sampled
 * after every step. What it shows: every good request answers, every bad one fails with the typed
 * error it should (never anything else), a model disposed mid-generation says so and a reloaded one
 * works, and memory stays flat (live bytes back to the same figure at every idle point, RSS not
 * growing from the first quarter of the run to the last).
 *
 *   node tools/dist/bench/soak.js [--generations 200] [--model DIR] [--model2 DIR] [--json FILE]
 *
 * Default model: the tiny random-weight demo model, loaded twice on one device: A in f16, B in f32
 * (two models with their own weights; --model2 gives B another folder).
 */
import { writeFile } from 'node:fs/promises';
import { FastVLM, type GenerateRequest, type LoadFastVlmOptions } from '@fastvlm/llava';
import { createDevice, FastVlmError, type Device } from '@fastvlm/tensor';
import { demoModelFolder, sampleImagePath } from '../demo/demo-assets.js';
import { formatBytes } from '../format-bytes.js';

/** What one step does; `expect` says how it must end. */
interface StepPlan {
  readonly kind: string;
  /** 'ok', or the FastVlmError code (or error name) the step must fail with. */
  readonly expect: string;
  run(models: Models): Promise<void>;
}

interface Models {
  a: FastVLM;
  b: FastVLM;
  readonly device: Device;
  readonly image: string;
  /** Reloads of B so far. */
  loads: number;
  reloadB(): Promise<void>;
}

interface Sample {
  readonly step: number;
  readonly kind: string;
  readonly outcome: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly liveBytes: number;
  readonly pooledBytes: number;
  readonly rssBytes: number;
  /** How many times B was reloaded before this sample: live bytes are compared within one such segment. */
  readonly loads: number;
}

const SHORT = { maxNewTokens: 3 } as const;

async function drain(stream: AsyncGenerator<string, unknown, undefined>): Promise<void> {
  for (;;) if ((await stream.next()).done === true) return;
}

/** Runs `stream` and calls `after` once the first piece arrives (an abort, a dispose). */
async function interruptAfterFirstPiece(
  stream: AsyncGenerator<string, unknown, undefined>,
  after: () => void,
): Promise<void> {
  let first = true;
  for (;;) {
    const step = await stream.next();
    if (step.done === true) return;
    if (first) after();
    first = false;
  }
}

/** The step for index `i`: a fixed cycle of ten kinds, the bad ones rotating through variants. */
function planStep(i: number): StepPlan {
  const junk = Uint8Array.from({ length: 64 }, (_, k) => (k * 31) & 0xff);
  const badRequests: [string, string, (m: Models) => GenerateRequest][] = [
    ['bad: missing image file', 'IMAGE', () => ({ image: '/nonexistent/fastvlm-soak.png', prompt: 'Hi' })],
    ['bad: junk image bytes', 'IMAGE', () => ({ image: junk, prompt: 'Hi' })],
    ['bad: maxNewTokens 0', 'GENERATION', () => ({ prompt: 'Hi', maxNewTokens: 0 })],
    ['bad: temperature NaN', 'SAMPLING', () => ({ prompt: 'Hi', temperature: Number.NaN })],
    ['bad: prompt over the context', 'GENERATION', () => ({ prompt: 'Hi', maxNewTokens: 10_000_000 })],
  ];
  switch (i % 10) {
    case 0:
      return {
        kind: 'good: text (A)',
        expect: 'ok',
        run: (m) => m.a.generate({ prompt: 'Say hello.', ...SHORT }).then(),
      };
    case 1:
      return { kind: 'good: text (B)', expect: 'ok', run: (m) => m.b.generate({ prompt: 'Count.', ...SHORT }).then() };
    case 2:
    case 5: {
      const [kind, code, request] = badRequests[Math.floor(i / 5) % badRequests.length];
      return { kind, expect: code, run: (m) => (i % 2 === 0 ? m.a : m.b).generate(request(m)).then() };
    }
    case 3:
      return {
        kind: 'abort after the first token (A)',
        expect: 'AbortError',
        run: async (m) => {
          const controller = new AbortController();
          const request = {
            prompt: 'Tell a long story.',
            maxNewTokens: 50,
            stopTokenIds: [],
            signal: controller.signal,
          };
          await interruptAfterFirstPiece(m.a.stream(request), () => controller.abort());
        },
      };
    case 4:
      return {
        kind: 'chat: two turns, then dispose (B)',
        expect: 'ok',
        run: async (m) => {
          const chat = m.b.chat({ maxContext: 256 });
          try {
            await chat.reply('Hello.', SHORT);
            await chat.reply('And then?', SHORT);
          } finally {
            chat.dispose();
          }
        },
      };
    case 6:
      return {
        kind: 'chat: a failed turn, then a good one (A)',
        expect: 'ok',
        run: async (m) => {
          const chat = m.a.chat({ maxContext: 256 });
          try {
            const failed = await chat.reply('Hello.', { maxNewTokens: 0 }).then(
              () => 'answered',
              (error: unknown) => (error instanceof FastVlmError ? 'typed' : String(error)),
            );
            if (failed !== 'typed') throw new Error(`the bad turn ended '${failed}'`);
            await chat.reply('Hello again.', SHORT);
          } finally {
            chat.dispose();
          }
        },
      };
    case 7:
      return {
        kind: 'good: image (A)',
        expect: 'ok',
        run: (m) => m.a.generate({ image: m.image, prompt: 'Describe the image.', maxNewTokens: 2 }).then(),
      };
    case 8:
      if (i % 50 === 48)
        return {
          kind: 'dispose B while it generates, then reload it',
          expect: 'DISPOSED',
          run: async (m) => {
            const request = { prompt: 'Go on.', maxNewTokens: 50, stopTokenIds: [] };
            try {
              await interruptAfterFirstPiece(m.b.stream(request), () => m.b.dispose());
            } finally {
              await m.reloadB();
            }
          },
        };
      return {
        kind: 'good: text, stream (B)',
        expect: 'ok',
        run: (m) => drain(m.b.stream({ prompt: 'Stream.', ...SHORT })),
      };
    default:
      return {
        kind: 'good: A and B at once',
        expect: 'ok',
        run: async (m) => {
          await Promise.all([m.a.generate({ prompt: 'One.', ...SHORT }), m.b.generate({ prompt: 'Two.', ...SHORT })]);
        },
      };
  }
}

/** How a step ended: 'ok', a FastVlmError's code, an error's name. */
function outcomeOf(error: unknown): string {
  if (error === undefined) return 'ok';
  if (error instanceof FastVlmError) return error.code;
  if (error instanceof Error || error instanceof DOMException) return error.name;
  return String(error);
}

/** The RSS after a full garbage collection when Node runs with --expose-gc (npm run bench:soak does), else as it is. */
function settledRss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
}

function argument(args: readonly string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

async function main(args: readonly string[]): Promise<number> {
  const generations = Number(argument(args, '--generations') ?? 200);
  if (!Number.isSafeInteger(generations) || generations < 10) throw new Error('--generations must be an integer >= 10');
  const folderA = argument(args, '--model') ?? (await demoModelFolder((text) => process.stderr.write(text)));
  const folderB = argument(args, '--model2') ?? folderA;
  const device = await createDevice();
  const optionsA: LoadFastVlmOptions = { device, dtype: 'f16' };
  const optionsB: LoadFastVlmOptions = { device, dtype: 'f32' };
  const started = performance.now();
  const models: Models = {
    a: await FastVLM.load(folderA, optionsA),
    b: await FastVLM.load(folderB, optionsB),
    device,
    image: await sampleImagePath(),
    loads: 0,
    async reloadB() {
      this.b = await FastVLM.load(folderB, optionsB);
      this.loads++;
    },
  };
  console.log(
    `soak: ${generations} steps on ${device.name}; A = ${folderA} (f16), B = ${folderB} (f32); ` +
      `loaded in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const samples: Sample[] = [];
  try {
    for (let step = 0; step < generations; step++) {
      const plan = planStep(step);
      const t0 = performance.now();
      let error: unknown;
      try {
        await plan.run(models);
      } catch (thrown) {
        error = thrown;
      }
      const outcome = outcomeOf(error);
      const ok = outcome === plan.expect;
      samples.push({
        step,
        kind: plan.kind,
        outcome,
        ok,
        ms: performance.now() - t0,
        liveBytes: device.liveBytes,
        pooledBytes: device.pooledBytes,
        rssBytes: settledRss(),
        loads: models.loads,
      });
      if (!ok) console.log(`step ${step} (${plan.kind}): expected ${plan.expect}, got ${outcome}: ${String(error)}`);
      if ((step + 1) % Math.max(1, Math.floor(generations / 10)) === 0)
        console.log(
          `  ${step + 1}/${generations}: live ${formatBytes(device.liveBytes)}, rss ${formatBytes(process.memoryUsage().rss)}`,
        );
    }
  } finally {
    models.a.dispose();
    models.b.dispose();
    device.destroy();
  }
  return report(samples, args);
}

async function report(samples: readonly Sample[], args: readonly string[]): Promise<number> {
  const kinds = new Map<string, { steps: number; ok: number; outcomes: Set<string>; ms: number[] }>();
  for (const sample of samples) {
    const entry = kinds.get(sample.kind) ?? { steps: 0, ok: 0, outcomes: new Set<string>(), ms: [] };
    entry.steps++;
    if (sample.ok) entry.ok++;
    entry.outcomes.add(sample.outcome);
    entry.ms.push(sample.ms);
    kinds.set(sample.kind, entry);
  }
  console.log('\n| step kind | steps | as expected | outcomes | median ms |');
  console.log('|---|---|---|---|---|');
  for (const [kind, entry] of kinds)
    console.log(
      `| ${kind} | ${entry.steps} | ${entry.ok} | ${[...entry.outcomes].join(', ')} | ${median(entry.ms).toFixed(0)} |`,
    );
  // Live bytes must be the same after every step between two reloads of B (a reload may take pooled
  // buffers up to a size class larger, so the figure may move at a reload, never between).
  const segments = new Map<number, number[]>();
  for (const sample of samples) segments.set(sample.loads, [...(segments.get(sample.loads) ?? []), sample.liveBytes]);
  const liveFlat = [...segments.values()].every((live) => Math.min(...live) === Math.max(...live));
  const live = samples.map((s) => s.liveBytes);
  const held = samples.map((s) => s.liveBytes + s.pooledBytes);
  // RSS after the first cycle of ten kinds (every pipeline compiled): the first quarter of the rest against the last.
  const rest = samples.slice(10);
  const quarter = Math.max(1, Math.floor(rest.length / 4));
  const rssFirst = median(rest.slice(0, quarter).map((s) => s.rssBytes));
  const rssLast = median(rest.slice(-quarter).map((s) => s.rssBytes));
  const floorFirst = Math.min(...rest.slice(0, quarter).map((s) => s.rssBytes));
  const floorLast = Math.min(...rest.slice(-quarter).map((s) => s.rssBytes));
  const rssMax = Math.max(...samples.map((s) => s.rssBytes));
  const rssGrowth = rssLast - rssFirst;
  const allOk = samples.every((s) => s.ok);
  console.log(
    `\nlive GPU bytes after every step: ${[...segments.values()].map((v) => formatBytes(v[0])).join(' -> ')} ` +
      `over ${segments.size} load(s) of B (${liveFlat ? 'flat: the same after every step between reloads' : 'NOT flat'}); ` +
      `min ${formatBytes(Math.min(...live))}, max ${formatBytes(Math.max(...live))}`,
  );
  console.log(
    `GPU bytes held (live + pooled): first ${formatBytes(held[0])}, last ${formatBytes(held[held.length - 1])}, max ${formatBytes(Math.max(...held))}`,
  );
  console.log(
    `RSS after the first 10 steps: median of the first quarter ${formatBytes(rssFirst)}, of the last quarter ${formatBytes(rssLast)} ` +
      `(${rssGrowth >= 0 ? '+' : '-'}${formatBytes(Math.abs(rssGrowth))}); lowest ${formatBytes(floorFirst)} and ${formatBytes(floorLast)}; ` +
      `first sample ${formatBytes(samples[0].rssBytes)}, max ${formatBytes(rssMax)}` +
      `${(globalThis as { gc?: unknown }).gc === undefined ? ' (no --expose-gc: samples include garbage)' : ' (after a full GC)'}`,
  );
  console.log(`steps as expected: ${samples.filter((s) => s.ok).length} of ${samples.length}`);
  const jsonPath = argument(args, '--json');
  if (jsonPath !== undefined) await writeFile(jsonPath, `${JSON.stringify({ samples }, null, 1)}\n`);
  // Flat: live bytes identical between reloads; RSS grows less than 64 MiB from the first quarter to the last.
  return allOk && liveFlat && rssGrowth < 64 * 2 ** 20 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));

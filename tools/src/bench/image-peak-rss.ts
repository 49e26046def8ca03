/**
 * `npm run bench:image-rss`: the peak resident memory of preprocessing the worst images the image
 * budgets allow (DEFAULT_IMAGE_BUDGET), each in a fresh Node process (maxRSS of that process):
 *   - square: a 16-bit RGBA PNG of the largest side whose decoding fits maxDecodedBytes;
 *   - tall: a 16-bit RGBA PNG maxImageSide pixels high, as wide as maxDecodedBytes allows;
 *   - baseline: an 8x8 PNG (the process, Node and the libraries alone).
 * The PNGs are written row by row (never whole in memory) into a temporary folder, deleted after.
 * Usage: node tools/dist/bench/image-peak-rss.js [--size 1024] [--keep]
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, createDeflate } from 'node:zlib';
import { preprocessImage } from '@fastvlm/fastvithd';
import { DEFAULT_IMAGE_BUDGET, readImageHeader } from '@fastvlm/image';
import { formatBytes } from '../format-bytes.js';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

function ihdr(width: number, height: number): Buffer {
  const data = Buffer.alloc(13);
  data.writeUInt32BE(width, 0);
  data.writeUInt32BE(height, 4);
  data.set([16, 6, 0, 0, 0], 8); // 16-bit RGBA, deflate, adaptive filtering, no interlace
  return chunk('IHDR', data);
}

/** What decoding a 16-bit RGBA PNG of width x height costs by the library's own count. */
function decodedBytes(width: number, height: number): number {
  return readImageHeader(Buffer.concat([SIGNATURE, ihdr(width, height)]), {
    maxDecodedBytes: Number.MAX_SAFE_INTEGER,
    maxImageSide: Number.MAX_SAFE_INTEGER,
  }).decodedBytes;
}

/** The largest n in [1, high] with fits(n). */
function largest(high: number, fits: (n: number) => boolean): number {
  let low = 1;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(mid)) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** Streams a 16-bit RGBA PNG (a gradient row repeated, 'up' filtered below the first) to `path`. */
async function writePng(path: string, width: number, height: number): Promise<void> {
  const file = createWriteStream(path);
  file.write(Buffer.concat([SIGNATURE, ihdr(width, height)]));
  const deflate = createDeflate({ level: 1 });
  const idats: Promise<void> = (async () => {
    for await (const data of deflate as AsyncIterable<Buffer>)
      if (!file.write(chunk('IDAT', data))) await drained(file);
  })();
  const first = Buffer.alloc(1 + width * 8);
  for (let x = 0; x < width * 4; x++) first.writeUInt16BE((x * 37) & 0xffff, 1 + 2 * x);
  const up = Buffer.alloc(1 + width * 8);
  up[0] = 2; // 'up': every later row equals the first
  for (let y = 0; y < height; y++) {
    if (!deflate.write(y === 0 ? first : up)) await new Promise((done) => deflate.once('drain', done));
  }
  deflate.end();
  await idats;
  file.end(chunk('IEND', new Uint8Array(0)));
  await new Promise<void>((done, fail) => file.once('finish', done).once('error', fail));
}

function drained(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((done) => stream.once('drain', () => done()));
}

interface Measured {
  readonly ms: number;
  readonly maxRssBytes: number;
}

/** Child mode: preprocess one image and print {ms, maxRssBytes}. */
async function measureHere(path: string, size: number): Promise<void> {
  const started = performance.now();
  await preprocessImage(path, { size, layout: 'nhwc' });
  const result: Measured = { ms: performance.now() - started, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function measureInChild(path: string, size: number): Measured {
  const script = fileURLToPath(import.meta.url);
  const stdout = execFileSync(process.execPath, [script, '--measure', path, '--size', String(size)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(stdout.trim().split('\n').pop() as string) as Measured;
}

async function main(args: readonly string[]): Promise<void> {
  const sizeAt = args.indexOf('--size');
  const size = sizeAt >= 0 ? Number(args[sizeAt + 1]) : 1024;
  const measureAt = args.indexOf('--measure');
  if (measureAt >= 0) return measureHere(args[measureAt + 1], size);

  const budget = DEFAULT_IMAGE_BUDGET;
  const side = largest(budget.maxImageSide, (n) => decodedBytes(n, n) <= budget.maxDecodedBytes);
  const tallWidth = largest(budget.maxImageSide, (n) => decodedBytes(n, budget.maxImageSide) <= budget.maxDecodedBytes);
  const images = [
    { name: 'baseline (8x8)', width: 8, height: 8 },
    { name: 'square, 16-bit RGBA', width: side, height: side },
    { name: 'tall, 16-bit RGBA', width: tallWidth, height: budget.maxImageSide },
  ];
  const folder = await mkdtemp(join(tmpdir(), 'fastvlm-image-rss-'));
  console.log(
    `budgets: maxDecodedBytes ${formatBytes(budget.maxDecodedBytes)}, maxImageSide ${budget.maxImageSide}, ` +
      `maxFileBytes ${formatBytes(budget.maxFileBytes)}; preprocess to ${size}x${size}; node ${process.version}`,
  );
  console.log('| image | size | file | decoded (budget count) | preprocess | peak RSS |');
  console.log('|---|---|---|---|---|---|');
  try {
    for (const image of images) {
      const path = join(folder, `${image.width}x${image.height}.png`);
      await writePng(path, image.width, image.height);
      const fileBytes = (await stat(path)).size;
      const { ms, maxRssBytes } = measureInChild(path, size);
      console.log(
        `| ${image.name} | ${image.width}x${image.height} | ${formatBytes(fileBytes)} | ` +
          `${formatBytes(decodedBytes(image.width, image.height))} | ${(ms / 1000).toFixed(1)} s | ${formatBytes(maxRssBytes)} |`,
      );
      await rm(path);
    }
  } finally {
    if (!args.includes('--keep')) await rm(folder, { recursive: true, force: true });
  }
}

await main(process.argv.slice(2));

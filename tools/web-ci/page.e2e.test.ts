/**
 * The page (tools/web) end to end in Chromium, on lavapipe in compatibility mode, with the tiny random
 * demo model served by `fastvlm web`'s server: the answer's token ids are Node's for the same image and
 * prompt (a PNG picked in the page, and a frame of Chromium's fake camera), the stop button stops a
 * generation, and every bad input (no WebGPU, a folder that is not a FastVLM model, a download that
 * fails mid-way, a file that is not an image) is one visible line in the status bar with the page
 * still usable. Load time and time to first token in the page are printed; a screenshot is saved to
 * .cache/ci-artifacts/.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FastVLM, type GenerateResult } from '@fastvlm/llava';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheFolder, demoModelFolder, sampleImagePath } from '../src/demo/demo-assets.js';
import { bundlePage } from '../src/web/bundle.js';
import { startWebServer, type WebServer } from '../src/web/server.js';
import { FAKE_CAMERA, launchOptions } from './chromium.js';

const PROMPT = 'Describe the image.';
const MAX_NEW_TOKENS = 8;
const ARTIFACTS = join(cacheFolder(), 'ci-artifacts');
/** Long enough for lavapipe through ANGLE to compile the model's kernels on a busy 2-core machine. */
const GENERATION_MS = 300_000;

/** What the page exposes as `window.fastvlmPage` (tools/web/src/main.ts), the parts read here. */
interface PageView {
  phase: string;
  adapter: string | undefined;
  loadSeconds: number | undefined;
  lastError: string | undefined;
  finished: number;
  image: { width: number; height: number } | undefined;
  result: (Pick<GenerateResult, 'tokenIds' | 'finishReason' | 'text'> & { ttftMs: number | null }) | undefined;
}

function view(page: Page): Promise<PageView> {
  return page.evaluate(() => {
    const s = (globalThis as unknown as { fastvlmPage: Record<string, never> }).fastvlmPage as unknown as {
      phase: string;
      adapter: string | undefined;
      loadSeconds: number | undefined;
      lastError: string | undefined;
      finished: number;
      image: { width: number; height: number } | undefined;
      lastResult: GenerateResult | undefined;
    };
    const r = s.lastResult;
    return {
      phase: s.phase,
      adapter: s.adapter,
      loadSeconds: s.loadSeconds,
      lastError: s.lastError,
      finished: s.finished,
      image: s.image && { width: s.image.width, height: s.image.height },
      result: r && { tokenIds: r.tokenIds, finishReason: r.finishReason, text: r.text, ttftMs: r.timings.ttftMs },
    };
  });
}

/** Waits until a load or a generation that started after `before` ended. */
async function finishedAfter(page: Page, before: number): Promise<PageView> {
  await page.waitForFunction(
    (n) => (globalThis as unknown as { fastvlmPage: { finished: number } }).fastvlmPage.finished > n,
    before,
    { timeout: GENERATION_MS, polling: 250 },
  );
  return view(page);
}

interface StatusLine {
  kind: string | undefined;
  text: string;
  height: number;
  lineHeight: number;
}

async function status(page: Page): Promise<StatusLine> {
  const line = page.locator('#status');
  await expect(line.isVisible()).resolves.toBe(true);
  return line.evaluate((el) => ({
    kind: (el as HTMLElement).dataset.kind,
    text: el.textContent ?? '',
    height: el.getBoundingClientRect().height,
    lineHeight: parseFloat(getComputedStyle(el).lineHeight) || parseFloat(getComputedStyle(el).fontSize) * 1.4,
  }));
}

/** A visible one-line error matching `pattern`. */
async function expectErrorLine(page: Page, pattern: RegExp): Promise<string> {
  await page.waitForFunction(() => document.getElementById('status')?.dataset.kind === 'error', undefined, {
    timeout: GENERATION_MS,
  });
  const line = await status(page);
  expect(line.text).toMatch(pattern);
  expect(line.text).not.toContain('\n');
  expect(line.text).not.toMatch(/\n\s+at |\.ts:\d+/); // no stack trace
  // one line on screen: the padding (12 px) plus one line of text
  expect(line.height).toBeLessThan(line.lineHeight * 2 + 12);
  return line.text;
}

/** The page can still be used: nothing busy, and picking an image works. */
async function expectUsable(page: Page, image: string): Promise<void> {
  expect((await view(page)).phase).not.toMatch(/loading|generating/);
  await expect(page.locator('#load-url').isEnabled()).resolves.toBe(true);
  await page.setInputFiles('#image-input', image);
  await page.waitForFunction(() => document.getElementById('status')?.dataset.kind === 'ok');
  expect((await status(page)).text).toMatch(/test-card\.png: \d+×\d+/);
}

describe('the page in Chromium (lavapipe, compatibility mode), end to end', () => {
  let model: string;
  let image: string;
  let reference: FastVLM;
  let server: WebServer;
  let cutServer: WebServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  let nodeTtftMs: number | null = null;

  beforeAll(async () => {
    model = await demoModelFolder((text) => process.stderr.write(text));
    image = await sampleImagePath();
    await mkdir(ARTIFACTS, { recursive: true });
    const bundle = await bundlePage();
    server = await startWebServer({ model, port: 0, bundle });
    // the same model, its weights' connection dropped after 40 MB
    cutServer = await startWebServer({ model, port: 0, bundle, cutAfter: new Map([['model.safetensors', 40e6]]) });
    reference = await FastVLM.load(model);
    browser = await chromium.launch(launchOptions('compat', FAKE_CAMERA));
    context = await browser.newContext({ viewport: { width: 1000, height: 1100 } });
    await context.grantPermissions(['camera'], { origin: new URL(server.url).origin });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${server.url}?featureLevel=compatibility`);
    await page.waitForFunction(() => /WebGPU adapter/.test(document.getElementById('status')?.textContent ?? ''));
  }, GENERATION_MS);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await cutServer?.close();
    reference?.dispose();
  });

  it('finds the compatibility-mode adapter (lavapipe through ANGLE)', async () => {
    const { adapter } = await view(page);
    console.log(`[page] adapter: ${adapter}`);
    expect(adapter).toMatch(/compatibility mode/);
    expect(adapter).toMatch(/llvmpipe/);
  });

  it('says a file that is not an image is not one, in one line', async () => {
    await page.setInputFiles('#image-input', {
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('not an image\n'),
    });
    await expectErrorLine(page, /^Not a usable image: .*notes\.txt/);
    await expectUsable(page, image);
  });

  it('says a folder that is not a FastVLM model is not one, in one line', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'fastvlm-not-a-model-'));
    try {
      await writeFile(join(folder, 'config.json'), JSON.stringify({ model_type: 'bert', hidden_size: 8 }));
      await writeFile(join(folder, 'notes.txt'), 'hello\n');
      const before = (await view(page)).finished;
      await page.setInputFiles('#folder-input', folder);
      await finishedAfter(page, before);
      await expectErrorLine(page, /^Cannot load the model: /);
      await expectUsable(page, image);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('loads the model from the server, with its load time', async () => {
    const before = (await view(page)).finished;
    await page.click('#load-url');
    const state = await finishedAfter(page, before);
    expect(state.lastError).toBeUndefined();
    expect(state.phase).toBe('ready');
    expect((await status(page)).kind).toBe('ok');
    console.log(`[page] model loaded in ${state.loadSeconds?.toFixed(1)} s (${await page.textContent('#model-info')})`);
  });

  it('stops a generation with the stop button, and answers again after', async () => {
    await page.fill('#prompt', 'Write a long story.');
    await page.fill('#max-tokens', '400');
    const before = (await view(page)).finished;
    await page.click('#ask');
    await page.waitForFunction(() => (document.getElementById('answer')?.textContent ?? '').length > 0, undefined, {
      timeout: GENERATION_MS,
    });
    await page.click('#stop');
    const state = await finishedAfter(page, before);
    expect(state.lastError).toBe('stopped');
    expect((await status(page)).text).toBe('Stopped.');
    expect(state.phase).toBe('ready');
    await expect(page.locator('#ask').isEnabled()).resolves.toBe(true);
    await expect(page.locator('#stop').isDisabled()).resolves.toBe(true);
  });

  it("answers about a picked PNG with Node's token ids", async () => {
    const expected = await reference.generate({ prompt: PROMPT, image, maxNewTokens: MAX_NEW_TOKENS });
    nodeTtftMs = expected.timings.ttftMs;
    await page.setInputFiles('#image-input', image);
    await page.waitForFunction(() => /test-card/.test(document.getElementById('status')?.textContent ?? ''));
    await page.fill('#prompt', PROMPT);
    await page.fill('#max-tokens', String(MAX_NEW_TOKENS));
    const before = (await view(page)).finished;
    await page.click('#ask');
    const state = await finishedAfter(page, before);
    expect(state.lastError).toBeUndefined();
    expect(state.result?.tokenIds).toEqual(expected.tokenIds);
    const seconds = (ms: number | null | undefined): string => (ms == null ? '-' : `${(ms / 1000).toFixed(2)} s`);
    console.log(
      `[page] test card: time to first token ${seconds(state.result?.ttftMs)} (Node ${seconds(nodeTtftMs)}); ` +
        `token ids ${JSON.stringify(state.result?.tokenIds)} = Node's`,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'page-compat.png'), fullPage: true });
    console.log(`[page] screenshot: ${join(ARTIFACTS, 'page-compat.png')}`);
  });

  it("answers about a fake-camera frame with Node's token ids for the same pixels", async () => {
    await page.click('#webcam');
    await page.waitForFunction(() => {
      const video = document.getElementById('video') as HTMLVideoElement | null;
      return video !== null && video.videoWidth > 0 && video.currentTime > 0.3;
    });
    await page.click('#capture');
    const frame = await page.evaluate(() => {
      const image = (
        globalThis as unknown as { fastvlmPage: { image: { width: number; height: number; data: Uint8Array } } }
      ).fastvlmPage.image;
      let binary = '';
      for (let i = 0; i < image.data.length; i += 0x8000)
        binary += String.fromCharCode(...image.data.subarray(i, i + 0x8000));
      return { width: image.width, height: image.height, base64: btoa(binary) };
    });
    expect([frame.width, frame.height]).toEqual([640, 480]);
    await page.fill('#prompt', PROMPT);
    await page.fill('#max-tokens', String(MAX_NEW_TOKENS));
    const data = new Uint8Array(Buffer.from(frame.base64, 'base64'));
    expect(data.length).toBe(640 * 480 * 3);
    const expected = await reference.generate({
      prompt: PROMPT,
      image: { width: frame.width, height: frame.height, data, channels: 3 },
      maxNewTokens: MAX_NEW_TOKENS,
    });
    const before = (await view(page)).finished;
    await page.click('#ask');
    const state = await finishedAfter(page, before);
    expect(state.lastError).toBeUndefined();
    expect(state.result?.tokenIds).toEqual(expected.tokenIds);
    console.log(`[page] webcam frame 640x480: token ids ${JSON.stringify(state.result?.tokenIds)} = Node's`);
    await page.click('#webcam'); // camera off
  });

  it('says a download that fails mid-way failed, in one line, and stays usable', async () => {
    const cutPage = await context.newPage();
    try {
      await cutPage.goto(`${cutServer.url}?featureLevel=compatibility`);
      await cutPage.waitForFunction(() => /WebGPU adapter/.test(document.getElementById('status')?.textContent ?? ''));
      const before = (await view(cutPage)).finished;
      await cutPage.click('#load-url');
      await finishedAfter(cutPage, before);
      const text = await expectErrorLine(cutPage, /^Cannot load the model: /);
      console.log(`[page] cut download: ${text}`);
      await expectUsable(cutPage, image);
    } finally {
      await cutPage.close();
    }
  });

  it('says a browser without WebGPU has none, in one line, and stays usable', async () => {
    const bare = await context.newPage();
    try {
      await bare.addInitScript(() => {
        Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true });
      });
      await bare.goto(server.url);
      await expectErrorLine(bare, /^WebGPU is not usable here: .*no WebGPU/);
      await expectUsable(bare, image);
      const before = (await view(bare)).finished;
      await bare.click('#load-url');
      await finishedAfter(bare, before);
      await expectErrorLine(bare, /^Cannot load the model: .*no WebGPU/);
    } finally {
      await bare.close();
    }
  });

  it('threw no uncaught error in any page', () => {
    expect(pageErrors).toEqual([]);
  });
});

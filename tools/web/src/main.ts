/**
 * The page: choose a model (a URL, by default the Hugging Face repository, or a local folder), pick,
 * drop or capture an image, ask a question, watch the answer stream in. Every failure is one line in
 * the status bar and leaves the page usable. `window.fastvlmPage` exposes the state to tests.
 */
import type { RgbImage } from '@fastvlm/fastvithd';
import type { FastVLM, GenerateResult } from '@fastvlm/llava';
import { clearCacheStorageBlocks, type HttpFolderStats, type ModelFolder } from '@fastvlm/tensor';
import { ui } from './dom.js';
import { imageFromFile, imageFromVideo, showPreview, startWebcam } from './image-source.js';
import { loadModel, pageDevice, pickedFolder, urlFolder } from './model-session.js';
import { errorLine, isAbort, showStatus } from './status.js';

const HUB_MODEL = 'https://huggingface.co/apple/FastVLM-0.5B';

/** What tests read: the page's state and the last results. */
interface PageState {
  phase: 'idle' | 'loading' | 'ready' | 'generating';
  model: string | undefined;
  adapter: string | undefined;
  loadSeconds: number | undefined;
  image: RgbImage | undefined;
  lastResult: GenerateResult | undefined;
  lastError: string | undefined;
  /** Changes whenever a load or a generation ends (tests wait on it). */
  finished: number;
}

const state: PageState = {
  phase: 'idle',
  model: undefined,
  adapter: undefined,
  loadSeconds: undefined,
  image: undefined,
  lastResult: undefined,
  lastError: undefined,
  finished: 0,
};
(globalThis as { fastvlmPage?: PageState }).fastvlmPage = state;

let model: FastVLM | undefined;
let loading: AbortController | undefined;
let generating: AbortController | undefined;
let stopWebcam: (() => void) | undefined;

function fail(prefix: string, error: unknown): void {
  const line = errorLine(prefix, error);
  state.lastError = line;
  showStatus('error', line);
}

function refreshButtons(): void {
  const busy = state.phase === 'loading' || state.phase === 'generating';
  ui.ask.disabled = busy || model === undefined;
  ui.stop.disabled = !busy;
  ui.loadUrl.disabled = busy;
  ui.pickFolder.disabled = busy;
}

function setPhase(phase: PageState['phase']): void {
  state.phase = phase;
  refreshButtons();
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

async function load(folder: ModelFolder, stats?: HttpFolderStats): Promise<void> {
  model?.dispose();
  model = undefined;
  state.model = undefined;
  state.lastError = undefined;
  setPhase('loading');
  ui.progress.value = 0;
  ui.modelInfo.textContent = '';
  showStatus('info', `Loading ${folder.location}…`);
  try {
    const report = await loadModel(
      folder,
      {
        onBytes(progress) {
          ui.progress.max = Math.max(1, progress.totalBytes);
          ui.progress.value = progress.readBytes;
          const cached = stats ? `, ${mb(stats.storedBytesRead)} from the browser cache` : '';
          showStatus('info', `Loading weights: ${mb(progress.readBytes)} of ${mb(progress.totalBytes)}${cached}`);
        },
        onStage(progress) {
          if (progress.stage === 'config' || progress.stage === 'tokenizer')
            showStatus('info', `Reading the ${progress.stage}…`);
        },
      },
      stats,
    );
    model = report.model;
    state.model = folder.location;
    state.adapter = model.device.name;
    state.loadSeconds = report.seconds;
    ui.progress.value = ui.progress.max;
    const http = report.http;
    const source = http
      ? `; downloaded ${mb(http.downloadedBytes)}, ${mb(http.storedBytesRead)} from the browser cache`
      : '';
    ui.modelInfo.textContent = `${folder.location} on ${model.device.name}: loaded in ${report.seconds.toFixed(1)} s${source}`;
    showStatus('ok', `Model ready (${report.seconds.toFixed(1)} s). Pick an image and ask a question.`);
  } catch (error) {
    fail(isAbort(error) ? 'Loading stopped' : 'Cannot load the model', error);
  } finally {
    loading = undefined;
    setPhase(model ? 'ready' : 'idle');
    state.finished++;
  }
}

function loadFromUrl(): void {
  const url = ui.modelUrl.value.trim();
  if (url === '') return showStatus('error', 'Give a model URL, e.g. ' + HUB_MODEL);
  loading = new AbortController();
  let folder: ReturnType<typeof urlFolder>;
  try {
    folder = urlFolder(url, loading.signal);
  } catch (error) {
    return fail('Cannot load the model', error);
  }
  void load(folder, folder.stats);
}

async function useImageFile(file: File): Promise<void> {
  try {
    const image = await imageFromFile(file);
    state.image = image;
    showPreview(image);
    showStatus('ok', `${file.name}: ${image.width}×${image.height}`);
  } catch (error) {
    fail('Not a usable image', error);
  }
}

async function ask(): Promise<void> {
  if (model === undefined) return showStatus('error', 'Load a model first.');
  const maxNewTokens = Number(ui.maxTokens.value);
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1)
    return showStatus('error', `max tokens must be a whole number >= 1, got ${ui.maxTokens.value}`);
  generating = new AbortController();
  setPhase('generating');
  ui.answer.textContent = '';
  ui.stats.textContent = '';
  state.lastResult = undefined;
  state.lastError = undefined;
  showStatus('info', state.image ? 'Looking at the image…' : 'Thinking…');
  const image = state.image;
  try {
    const stream = model.stream({
      prompt: ui.prompt.value,
      image: image && { width: image.width, height: image.height, data: image.data, channels: 3 },
      maxNewTokens,
      signal: generating.signal,
    });
    for (;;) {
      const step = await stream.next();
      if (step.done) {
        state.lastResult = step.value;
        break;
      }
      ui.answer.textContent += step.value;
      showStatus('info', 'Answering…');
    }
    const t = state.lastResult.timings;
    const rate = t.decodeTokensPerSecond === null ? '' : `, ${t.decodeTokensPerSecond.toFixed(1)} tokens/s`;
    ui.stats.textContent =
      `time to first token ${t.ttftMs === null ? '-' : `${(t.ttftMs / 1000).toFixed(2)} s`}${rate}, ` +
      `${state.lastResult.tokenIds.length} tokens (${state.lastResult.finishReason})`;
    showStatus('ok', 'Done.');
  } catch (error) {
    if (isAbort(error)) {
      state.lastError = 'stopped';
      showStatus('info', 'Stopped.');
    } else {
      fail('The answer failed', error);
    }
  } finally {
    generating = undefined;
    setPhase('ready');
    state.finished++;
  }
}

function wire(): void {
  const params = new URLSearchParams(location.search);
  const served = document.querySelector<HTMLMetaElement>('meta[name="fastvlm-model"]')?.content;
  ui.modelUrl.value = params.get('model') ?? served ?? HUB_MODEL;

  ui.loadUrl.addEventListener('click', loadFromUrl);
  ui.pickFolder.addEventListener('click', () => ui.folderInput.click());
  ui.folderInput.addEventListener('change', () => {
    const files = ui.folderInput.files;
    if (files && files.length > 0) void load(pickedFolder(files));
    ui.folderInput.value = '';
  });
  ui.clearCache.addEventListener('click', () => {
    void clearCacheStorageBlocks().then((had) =>
      showStatus('ok', had ? 'Cleared the downloaded weights.' : 'Nothing was cached.'),
    );
  });
  ui.imageInput.addEventListener('change', () => {
    const file = ui.imageInput.files?.[0];
    if (file) void useImageFile(file);
    ui.imageInput.value = ''; // picking the same file again is a change too
  });
  ui.drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    ui.drop.classList.add('over');
  });
  ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
  ui.drop.addEventListener('drop', (event) => {
    event.preventDefault();
    ui.drop.classList.remove('over');
    const file = event.dataTransfer?.files[0];
    if (file) void useImageFile(file);
    else showStatus('error', 'Drop an image file (PNG or JPEG).');
  });
  ui.webcam.addEventListener('click', () => {
    if (stopWebcam) {
      stopWebcam();
      stopWebcam = undefined;
      ui.capture.disabled = true;
      ui.webcam.textContent = 'Webcam';
      return;
    }
    startWebcam().then(
      (stop) => {
        stopWebcam = stop;
        ui.capture.disabled = false;
        ui.webcam.textContent = 'Stop webcam';
        showStatus('ok', 'Webcam on: capture a frame.');
      },
      (error: unknown) => fail('No webcam', error),
    );
  });
  ui.capture.addEventListener('click', () => {
    try {
      const image = imageFromVideo(ui.video);
      state.image = image;
      showPreview(image);
      showStatus('ok', `Webcam frame: ${image.width}×${image.height}`);
    } catch (error) {
      fail('No frame', error);
    }
  });
  ui.ask.addEventListener('click', () => void ask());
  ui.stop.addEventListener('click', () => {
    generating?.abort(new DOMException('stopped by the user', 'AbortError'));
    loading?.abort(new DOMException('stopped by the user', 'AbortError'));
  });
  refreshButtons();
}

async function checkWebGpu(): Promise<void> {
  try {
    // ?featureLevel=compatibility asks for a compatibility-mode adapter even where a core one exists.
    const level = new URLSearchParams(location.search).get('featureLevel');
    const device = await pageDevice(level === 'compatibility' ? { featureLevel: 'compatibility' } : {});
    state.adapter = device.name;
    showStatus('ok', `WebGPU adapter: ${device.name}. Load a model to start.`);
  } catch (error) {
    fail('WebGPU is not usable here', error);
  }
}

wire();
void checkWebGpu();

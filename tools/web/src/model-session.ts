/**
 * Loading a model in the page: from a URL (a Hugging Face repository or the folder `fastvlm web`
 * serves), its weights' blocks kept in Cache Storage for the next visit, or from a folder the user
 * picked. One WebGPU device serves every model the page loads.
 */
import { FastVLM, type LoadProgress } from '@fastvlm/llava';
import {
  blobFolder,
  cacheStorageBlocks,
  createDevice,
  httpFolder,
  watchFolder,
  type Device,
  type DeviceOptions,
  type HttpFolderStats,
  type ModelFolder,
  type PickedFile,
  type ReadProgress,
} from '@fastvlm/tensor';

export interface LoadReport {
  model: FastVLM;
  seconds: number;
  /** Bytes downloaded and bytes read from the browser's cache (URL sources only). */
  http: HttpFolderStats | undefined;
}

export interface LoadCallbacks {
  onBytes(progress: ReadProgress): void;
  onStage(progress: LoadProgress): void;
}

let device: Promise<Device> | undefined;

/** The page's device, made on first use (compatibility mode where no core adapter exists). */
export function pageDevice(options: DeviceOptions = {}): Promise<Device> {
  device ??= createDevice(options).catch((error: unknown) => {
    device = undefined; // let a later click try again
    throw error;
  });
  return device;
}

/** A folder for a model URL, reading through Cache Storage. */
export function urlFolder(url: string, signal: AbortSignal): ModelFolder & { stats: HttpFolderStats } {
  const absolute = new URL(url, location.href).href;
  return httpFolder(absolute, { store: cacheStorageBlocks(), signal });
}

/** A folder from files picked with `<input webkitdirectory>`. */
export function pickedFolder(files: FileList): ModelFolder {
  return blobFolder(Array.from(files) as PickedFile[]);
}

export async function loadModel(
  folder: ModelFolder,
  callbacks: LoadCallbacks,
  stats?: HttpFolderStats,
): Promise<LoadReport> {
  const started = performance.now();
  const gpu = await pageDevice();
  const model = await FastVLM.load(watchFolder(folder, callbacks.onBytes), {
    device: gpu,
    onProgress: callbacks.onStage,
  });
  return { model, seconds: (performance.now() - started) / 1000, http: stats && { ...stats } };
}

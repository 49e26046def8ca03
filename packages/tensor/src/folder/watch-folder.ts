/**
 * A model folder that reports what is read from it: a progress bar over a model's weights whatever
 * the source (disk, HTTP, picked files).
 */
import type { FolderFile, ModelFolder } from './model-folder.js';

export interface ReadProgress {
  /** Bytes read so far from files matching the filter. */
  readBytes: number;
  /** Total size of the matching files opened so far. */
  totalBytes: number;
  /** The file just read from. */
  file: string;
}

/**
 * Wraps `folder` so that each read of a file whose name passes `filter` (default: safetensors
 * files) calls `onRead` with the running totals.
 */
export function watchFolder(
  folder: ModelFolder,
  onRead: (progress: ReadProgress) => void,
  filter: (name: string) => boolean = (name) => name.endsWith('.safetensors'),
): ModelFolder {
  const progress: ReadProgress = { readBytes: 0, totalBytes: 0, file: '' };
  const watched = (name: string, file: FolderFile): FolderFile => ({
    path: file.path,
    size: file.size,
    close: () => file.close(),
    async readInto(target, position) {
      await file.readInto(target, position);
      progress.readBytes += target.byteLength;
      progress.file = name;
      onRead({ ...progress });
    },
  });
  return {
    location: folder.location,
    pathOf: (name) => folder.pathOf(name),
    list: folder.list?.bind(folder),
    async open(name) {
      const file = await folder.open(name);
      if (file === undefined || !filter(name)) return file;
      progress.totalBytes += file.size;
      return watched(name, file);
    },
  };
}

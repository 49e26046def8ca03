/** The page's elements, found once and typed. */
function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`the page has no <${type.name}> #${id}`);
  return element;
}

export const ui = {
  status: byId('status', HTMLDivElement),
  modelUrl: byId('model-url', HTMLInputElement),
  loadUrl: byId('load-url', HTMLButtonElement),
  pickFolder: byId('pick-folder', HTMLButtonElement),
  folderInput: byId('folder-input', HTMLInputElement),
  clearCache: byId('clear-cache', HTMLButtonElement),
  progress: byId('progress', HTMLProgressElement),
  modelInfo: byId('model-info', HTMLDivElement),
  imageInput: byId('image-input', HTMLInputElement),
  webcam: byId('webcam', HTMLButtonElement),
  capture: byId('capture', HTMLButtonElement),
  drop: byId('drop', HTMLDivElement),
  dropHint: byId('drop-hint', HTMLSpanElement),
  preview: byId('preview', HTMLCanvasElement),
  video: byId('video', HTMLVideoElement),
  prompt: byId('prompt', HTMLTextAreaElement),
  ask: byId('ask', HTMLButtonElement),
  stop: byId('stop', HTMLButtonElement),
  maxTokens: byId('max-tokens', HTMLInputElement),
  answer: byId('answer', HTMLDivElement),
  stats: byId('stats', HTMLDivElement),
};

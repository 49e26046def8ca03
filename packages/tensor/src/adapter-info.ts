/** What adapter a device runs on, in words a user can read. */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** The browser's or Dawn's software fallback adapter (SwiftShader, WARP). */
  isFallback: boolean;
  /** A software rasteriser on the CPU (Mesa lavapipe/llvmpipe, SwiftShader, WARP). */
  isCpu: boolean;
}

export function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const info = adapter.info as Partial<GPUAdapterInfo> | undefined;
  const vendor = info?.vendor ?? '';
  const architecture = info?.architecture ?? '';
  const device = info?.device ?? '';
  const description = info?.description ?? '';
  const isFallback = info?.isFallbackAdapter === true;
  const text = `${vendor} ${architecture} ${device} ${description}`.toLowerCase();
  const isCpu = isFallback || /llvmpipe|lavapipe|swiftshader|warp|software|cpu/.test(text);
  return { vendor, architecture, device, description, isFallback, isCpu };
}

/**
 * The adapter in words: its description (Dawn in Node: `llvmpipe (LLVM 15.0.6, 256 bits) (mesa)`),
 * else what a browser does tell (Chromium leaves `description` blank: `swiftshader (google)`), else
 * `unnamed adapter`.
 */
export function adapterName(info: AdapterDescription): string {
  const main = info.description || info.device || info.architecture;
  const parts = [main, info.vendor && info.vendor !== main ? `(${info.vendor})` : ''].filter(Boolean);
  return parts.join(' ') || 'unnamed adapter';
}

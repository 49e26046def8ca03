/** What adapter a device runs on, in words a user can read. */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software rasteriser on the CPU (Mesa lavapipe/llvmpipe, SwiftShader, WARP). */
  isCpu: boolean;
}

export function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const info = adapter.info;
  const vendor = info?.vendor ?? '';
  const architecture = info?.architecture ?? '';
  const device = info?.device ?? '';
  const description = info?.description ?? '';
  const text = `${vendor} ${architecture} ${device} ${description}`.toLowerCase();
  const isCpu = /llvmpipe|lavapipe|swiftshader|warp|software|cpu/.test(text);
  return { vendor, architecture, device, description, isCpu };
}

export function adapterName(info: AdapterDescription): string {
  const parts = [info.description || info.device, info.vendor && `(${info.vendor})`].filter(Boolean);
  return parts.join(' ') || 'unknown adapter';
}

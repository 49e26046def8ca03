/**
 * How the browser CI starts Chromium: Debian's `chromium` (installed by tools/setup/install-chromium.sh;
 * Playwright's own browser download is unreachable here) driven by playwright-core, with the flags a
 * closed network needs, and one of the two WebGPU adapters Chromium offers on a machine without a GPU:
 *
 * - `swiftshader`: `--enable-unsafe-webgpu` alone gives SwiftShader, a core adapter with subgroups of
 *   4 invocations and no shader-f16;
 * - `compat`: with `--use-angle=vulkan --use-webgpu-adapter=opengles`, Dawn's OpenGL ES backend over
 *   ANGLE over Mesa's lavapipe, a compatibility-mode adapter with no optional feature at all. Only a
 *   request for `featureLevel: 'compatibility'` gets it: a core request still gets SwiftShader.
 *
 * `--enable-webgpu-developer-features` fills in the adapter's description (e.g. `ANGLE (Mesa, Vulkan
 * 1.4.305 (llvmpipe ...))`), so the log says which adapter ran.
 *
 * See ../shared/notes/browser.md for what was measured on this kind of machine.
 */
import type { FeatureLevel } from '@fastvlm/tensor';
import type { LaunchOptions } from 'playwright-core';

export type BrowserAdapter = 'swiftshader' | 'compat';
export const BROWSER_ADAPTERS: readonly BrowserAdapter[] = ['swiftshader', 'compat'];

/** Debian's Chromium, or $FASTVLM_CHROMIUM. */
export function chromiumPath(env: Record<string, string | undefined> = process.env): string {
  return env.FASTVLM_CHROMIUM?.trim() || '/usr/bin/chromium';
}

/** No first-run work and no connection to Google's services (refused on this network, many at a time). */
const QUIET = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
];

const WEBGPU = ['--enable-unsafe-webgpu', '--enable-webgpu-developer-features'];
const ADAPTER_FLAGS: Record<BrowserAdapter, readonly string[]> = {
  swiftshader: WEBGPU,
  compat: [...WEBGPU, '--use-angle=vulkan', '--use-webgpu-adapter=opengles'],
};

/** The feature level `createDevice` must ask for to get the adapter. */
export const FEATURE_LEVEL: Record<BrowserAdapter, FeatureLevel> = { swiftshader: 'core', compat: 'compatibility' };

/** A fake camera (a 640x480 test pattern) granted without a prompt. */
export const FAKE_CAMERA = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

export function launchOptions(adapter: BrowserAdapter, extraArgs: readonly string[] = []): LaunchOptions {
  return {
    executablePath: chromiumPath(),
    headless: true,
    args: [...QUIET, ...ADAPTER_FLAGS[adapter], ...extraArgs],
  };
}

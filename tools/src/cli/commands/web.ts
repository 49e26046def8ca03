/**
 * `fastvlm web [--model DIR] [--port N] [--host H]`: serves the browser page (FastVLM in the tab, on
 * WebGPU) and, with --model, a local model folder under /model/ with Range support, which the page
 * then loads by default. Without --model the page offers Apple's Hugging Face repository.
 */
import type { Command } from 'commander';
import { InputError, UsageError } from '../errors.js';
import { outputOf, type CliOutput } from '../output.js';
import { demoModelFolder } from '../../demo/demo-assets.js';
import { startWebServer, type WebServer } from '../../web/server.js';

export interface WebFlags {
  readonly model?: string;
  readonly demo?: boolean;
  readonly port?: string;
  readonly host?: string;
}

export function register(program: Command): void {
  program
    .command('web')
    .summary('serve the browser page (and a local model folder) on http://127.0.0.1:8080')
    .description(
      'Serve the FastVLM page: choose a model (a URL, by default the Hugging Face repository apple/FastVLM-0.5B, or a ' +
        'local folder), pick, drop or capture an image, ask a question. With --model, the folder is served under ' +
        '/model/ (Range requests, as the Hub does) and the page loads it by default. Stop with Ctrl-C.',
    )
    .option('--model <dir>', 'a local model folder to serve under /model/')
    .option('--demo', 'serve the tiny random demo model (written to the cache on first use), as npm run demo uses')
    .option('--port <n>', 'port to listen on (0: any free port)', '8080')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async (flags: WebFlags, command: Command) => {
      const server = await runWeb(flags, outputOf(command));
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void server.close().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}

function portOf(text: string | undefined): number {
  const value = text ?? '8080';
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535)
    throw new UsageError(`--port must be an integer in [0, 65535], got '${value}'`);
  return Number(value);
}

/** Starts the server and says where it is; the caller closes it. */
export async function runWeb(flags: WebFlags, output: CliOutput): Promise<WebServer> {
  const port = portOf(flags.port);
  if (flags.demo === true && flags.model !== undefined) throw new UsageError('give either --model or --demo, not both');
  const model = flags.demo === true ? await demoModelFolder((text) => output.err(text)) : flags.model;
  let server: WebServer;
  try {
    server = await startWebServer({ model, port, host: flags.host });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new InputError(`port ${port} is in use: pass --port N (or --port 0 for any free one)`);
    if (code === 'EADDRNOTAVAIL') throw new InputError(`cannot listen on ${flags.host}: no such local address`);
    throw error;
  }
  const { bytes, inputs } = server.bundle;
  output.out(
    `page bundle: ${(bytes / 1000).toFixed(1)} kB from ${inputs.length} inputs (esbuild, no Node built-ins)\n`,
  );
  if (model !== undefined) output.out(`model: ${model} served at ${server.url}model/\n`);
  output.out(`open ${server.url} in a browser with WebGPU (Ctrl-C stops)\n`);
  return server;
}

/**
 * The demo: `node tools/dist/demo/run-demo.js [MODEL_DIR] [IMAGE]` describes the test card (or
 * IMAGE) with the model in MODEL_DIR (or the tiny random demo model), streaming the answer and
 * printing the timings, as `fastvlm describe --profile` does.
 */
import { pathToFileURL } from 'node:url';
import { runDescribe } from '../cli/commands/describe.js';
import { reportError } from '../cli/errors.js';

export async function runDemo(argv: readonly string[]): Promise<number> {
  const [model, image] = argv;
  const output = {
    out: (text: string) => void process.stdout.write(text),
    err: (text: string) => void process.stderr.write(text),
  };
  try {
    const result = await runDescribe(image, { model, maxNewTokens: '32', profile: true }, output);
    output.err(`adapter: ${result.adapter}\n`);
    return 0;
  } catch (error) {
    return reportError(error, output.err);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runDemo(process.argv.slice(2));
}

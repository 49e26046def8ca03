#!/usr/bin/env node
// The `fastvlm` command: runs the compiled CLI (build it first with `npm run build`).
let cli;
try {
  cli = await import('../dist/cli/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist')) throw error;
  process.stderr.write('error: fastvlm is not built: run `npm run build` in the repository first\n');
  process.exit(1);
}
process.exitCode = await cli.runCli(process.argv);

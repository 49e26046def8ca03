#!/usr/bin/env bash
# The main job (`npm run demo`): set up a fresh machine, build, and run.
set -euo pipefail
cd "$(dirname "$0")/../.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
bash tools/setup/node-deps.sh
bash tools/setup/install-webgpu-driver.sh
npx tsc -b tools
node tools/dist/demo/run-demo.js "$@"

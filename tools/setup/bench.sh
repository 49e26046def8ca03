#!/usr/bin/env bash
# `npm run bench`: set up a fresh machine (npm packages, a WebGPU adapter, the PyTorch reference's
# .venv), build, then FastVLM-0.5B end to end next to PyTorch (tools/src/bench/fastvlm.ts).
# Arguments go to the benchmark, e.g. `npm run bench -- --dtype f16,int8,int8/int8 --runs 5`.
set -euo pipefail
cd "$(dirname "$0")/../.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
bash tools/setup/node-deps.sh
bash tools/setup/install-webgpu-driver.sh
FASTVLM_PYTHON="${FASTVLM_PYTHON:-$(bash tools/setup/python-env.sh | tail -n 1)}"
export FASTVLM_PYTHON
npx tsc -b tools
node tools/dist/bench/fastvlm.js "$@"

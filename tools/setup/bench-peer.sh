#!/usr/bin/env bash
# `npm run bench:peer`: set up what the peer benchmark needs (npm packages, a WebGPU adapter, the
# PyTorch .venv plus the ONNX exporter's packages, ONNX Runtime Web in tools/peer/), build, then run
# tools/src/bench/peer.ts. Arguments go to it, e.g. `npm run bench:peer -- --size 1024`.
set -euo pipefail
cd "$(dirname "$0")/../.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
bash tools/setup/node-deps.sh
bash tools/setup/install-webgpu-driver.sh
FASTVLM_PYTHON="${FASTVLM_PYTHON:-$(bash tools/setup/python-env.sh | tail -n 1)}"
export FASTVLM_PYTHON
if ! "$FASTVLM_PYTHON" -c "import onnx, onnxscript" 2>/dev/null; then
  echo "[setup] installing tools/python/requirements-bench.txt" >&2
  "$FASTVLM_PYTHON" -m pip install -q --retries 0 -r tools/python/requirements-bench.txt 2>&1 | grep -v "is ignored" >&2 || true
  "$FASTVLM_PYTHON" -c "import onnx, onnxscript"
fi
if [ ! -f tools/peer/node_modules/.package-lock.json ] || [ tools/peer/package-lock.json -nt tools/peer/node_modules/.package-lock.json ]; then
  echo "[setup] npm ci --prefix tools/peer (ONNX Runtime Web)" >&2
  npm ci --prefix tools/peer --no-audit --no-fund >&2
fi
npx tsc -b tools
node tools/dist/bench/peer.js "$@"

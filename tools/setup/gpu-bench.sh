#!/usr/bin/env bash
# `bash tools/setup/gpu-bench.sh [OUT_DIR]`: FastVLM-0.5B end to end on a machine with a real GPU
# (Dawn's Vulkan backend), next to our PyTorch reference on CUDA, in a few minutes.
#
# Assumes: Node >= 20.19, Python 3, an NVIDIA (or other) Vulkan driver already installed. Reaches no
# network but the npm and pip mirrors (and only when node_modules / .venv are missing). Writes
# OUT_DIR (default tmp/gpu-bench) with:
#   adapter.txt        the WebGPU adapter Dawn picked (the run stops if it is a CPU adapter)
#   nvidia-smi.txt     the GPU and driver
#   bench.txt / .json  `npm run bench`'s table: ours f16, int8, int8/int8 next to PyTorch CUDA fp32
#   bench-bf16.json    PyTorch CUDA bf16 for the same run (ours has no bf16 compute)
#   peer.txt           ONNX Runtime Web (WebGPU EP) on the same adapter, tower at 1024 + prefill, when
#                      its exports can be made (skipped with FASTVLM_GPU_BENCH_PEER=0)
# Environment: FASTVLM_GPU_BENCH_RUNS (default 3), FASTVLM_GPU_BENCH_TOKENS (default 64).
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-tmp/gpu-bench}"
mkdir -p "$out"
runs="${FASTVLM_GPU_BENCH_RUNS:-3}"
tokens="${FASTVLM_GPU_BENCH_TOKENS:-64}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"

command -v node >/dev/null || { echo "gpu-bench: node (>= 20.19) is required" >&2; exit 1; }
command -v nvidia-smi >/dev/null && nvidia-smi >"$out/nvidia-smi.txt" 2>&1 || echo "no nvidia-smi" >"$out/nvidia-smi.txt"

bash tools/setup/node-deps.sh
# Dawn must see the GPU's Vulkan driver, not a CPU one: refuse to time a CPU adapter here.
node tools/setup/probe-adapter.mjs >"$out/adapter.txt" 2>&1 || { cat "$out/adapter.txt" >&2; echo "gpu-bench: Dawn found no WebGPU adapter (is the Vulkan driver installed? vulkaninfo --summary)" >&2; exit 1; }
if grep -qiE "llvmpipe|lavapipe|swiftshader|cpu" "$out/adapter.txt"; then
  echo "gpu-bench: Dawn picked a CPU adapter ($(cat "$out/adapter.txt")); set VK_ICD_FILENAMES to the GPU's ICD" >&2
  exit 1
fi
echo "[gpu-bench] adapter: $(cat "$out/adapter.txt")"

FASTVLM_PYTHON="${FASTVLM_PYTHON:-$(bash tools/setup/python-env.sh | tail -n 1)}"
export FASTVLM_PYTHON
if ! "$FASTVLM_PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  echo "gpu-bench: the .venv's torch has no CUDA ($("$FASTVLM_PYTHON" -c 'import torch; print(torch.__version__)')); PyTorch will run on the CPU" >&2
  torch_device=cpu
else
  torch_device=cuda
fi
npx tsc -b tools

common=(--dtype f16,int8,int8/int8 --runs "$runs" --new-tokens "$tokens" --torch-device "$torch_device")
node tools/dist/bench/fastvlm.js "${common[@]}" | tee "$out/bench.txt"
node tools/dist/bench/fastvlm.js "${common[@]}" --no-profile --json >"$out/bench.json"
if [ "$torch_device" = cuda ]; then
  node tools/dist/bench/fastvlm.js --dtype f16 --runs "$runs" --new-tokens "$tokens" --torch-device cuda \
    --torch-dtype bfloat16 --no-profile --json >"$out/bench-bf16.json"
fi
if [ "${FASTVLM_GPU_BENCH_PEER:-1}" = 1 ]; then
  bash tools/setup/bench-peer.sh --size 1024 | tee "$out/peer.txt" || echo "gpu-bench: the peer benchmark failed (see above)" >&2
fi
echo "[gpu-bench] results in $out"

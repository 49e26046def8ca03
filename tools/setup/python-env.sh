#!/usr/bin/env bash
# Creates .venv with the PyTorch reference's packages (torch, transformers, safetensors, Pillow, ...),
# unless it is already there and complete. Prints the venv's python path on the last line.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv="$root/.venv"
req="$root/tools/python/requirements.txt"
stamp="$venv/.requirements.sha"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "$venv/bin/python"
  exit 0
fi
echo "[setup] creating the Python reference environment in .venv" >&2
python3 -m venv "$venv" >&2
# PyPI itself may be unreachable (CI): no retries, so pip moves straight on to the configured mirrors.
"$venv/bin/pip" install -q --retries 0 -r "$req" 2>&1 | grep -v "is ignored: it is neither a file nor a directory" >&2 || true
"$venv/bin/python" -c "import torch, transformers, safetensors, PIL" >&2
echo "$want" > "$stamp"
echo "$venv/bin/python"

#!/usr/bin/env bash
# `npm run notebooks [-- --update] [NAME.ipynb ...]`: executes every notebook in notebooks/ headless
# with Deno's Jupyter kernel (npm `deno`) driven by nbclient, and checks that the committed outputs
# belong to the committed code (see tools/setup/run-notebooks.py). Sets up what a fresh machine
# lacks: npm packages, the WebGPU driver, the build, and a small Python venv with nbclient.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"

bash tools/setup/node-deps.sh
bash tools/setup/install-webgpu-driver.sh
echo "[notebooks] build" >&2
npx tsc -b tsconfig.build.json

# nbclient (and nbformat, jupyter_client) from the configured package index / wheel mirror.
state="$root/.cache/notebooks"
venv="$state/venv"
want="nbclient==0.11.0 nbformat==5.11.1"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.packages" 2>/dev/null)" != "$want" ]; then
  echo "[notebooks] creating the Python venv for nbclient in .cache/notebooks/venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  # PyPI itself may be unreachable (CI): no retries, so pip moves straight on to the configured mirrors.
  # shellcheck disable=SC2086
  "$venv/bin/pip" install -q --retries 0 $want 2>&1 | grep -v "is ignored: it is neither a file nor a directory" >&2 || true
  "$venv/bin/python" -c "import nbclient, nbformat" >&2
  echo "$want" > "$venv/.packages"
fi

# The Deno kernel, registered for this run only (JUPYTER_PATH); the notebooks name it 'deno', as
# `deno jupyter --install` does for people who open them in Jupyter Lab or VS Code.
mkdir -p "$state/jupyter/kernels/deno"
cat > "$state/jupyter/kernels/deno/kernel.json" <<JSON
{"argv": ["$root/node_modules/.bin/deno", "jupyter", "--kernel", "--conn", "{connection_file}"],
 "display_name": "Deno", "language": "typescript"}
JSON

export JUPYTER_PATH="$state/jupyter" JUPYTER_RUNTIME_DIR="$state/runtime" DENO_DIR="$state/deno"
export NO_COLOR=1 DENO_NO_UPDATE_CHECK=1
exec "$venv/bin/python" tools/setup/run-notebooks.py "$@"

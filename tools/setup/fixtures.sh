#!/usr/bin/env bash
# Regenerates the PyTorch fixtures (safetensors dumps the parity tests compare against) when the
# reference scripts changed since they were last made. One command: `npm run fixtures`.
set -euo pipefail
cd "$(dirname "$0")/../.."
python="${FASTVLM_PYTHON:-$(bash tools/setup/python-env.sh | tail -n 1)}"
out=.cache/fixtures
stamp="$out/.sources.sha"
# Inputs of the fixture scripts: the scripts themselves, the Python requirements and the test corpora.
want=$(find tools/python packages/*/test -name '*.py' -o -name 'requirements.txt' -o -name '*-corpus.json' | sort | xargs cat | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && [ "${FORCE_FIXTURES:-}" != "1" ]; then
  exit 0
fi
mkdir -p "$out"
if ls tools/python/make_*.py >/dev/null 2>&1; then
  for script in tools/python/make_*.py; do
    echo "[fixtures] $script" >&2
    "$python" "$script" --out "$out"
  done
fi
echo "$want" > "$stamp"

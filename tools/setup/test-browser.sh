#!/usr/bin/env bash
# The browser CI (`npm run test:browser`, run by .ci/run after `npm test`): Debian's Chromium (installed
# when missing; failing loudly when it cannot be) driven by playwright-core against local servers.
#   1. the browser bundle of @fastvlm/llava: no Node built-in, its size and inputs (esbuild metafile);
#   2. the kernel parity suites (one case per variant) in Chromium on SwiftShader, then on lavapipe in
#      compatibility mode, against the same PyTorch fixtures as Node; their max errors are printed
#      next to Node's (from `npm test`, or run here when missing);
#   3. the page end to end on the compatibility adapter: Node's token ids for a picked PNG and a
#      fake-camera frame, the stop button, every bad input as one line; load time and time to first
#      token printed; a screenshot in .cache/ci-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
artifacts=.cache/ci-artifacts
started=$(date +%s)

bash tools/setup/node-deps.sh
bash tools/setup/install-webgpu-driver.sh
bash tools/setup/install-chromium.sh
if [ ! -f .cache/fixtures/.sources.sha ]; then
  python=$(bash tools/setup/python-env.sh | tail -n 1)
  FASTVLM_PYTHON="$python" bash tools/setup/fixtures.sh
fi
mkdir -p "$artifacts"

echo "[browser] bundle"
npx tsc -b tools
node tools/dist/web/bundle-report.js "$artifacts"

# Each run writes vitest's JSON report; count-tests fails on zero tests or any skipped one.
run_vitest() {
  local name=$1
  shift
  npx vitest run --reporter=default --reporter=json --outputFile.json="$artifacts/vitest-$name.json" "$@"
  node tools/setup/count-tests.mjs "$artifacts/vitest-$name.json"
}

if [ ! -f "$artifacts/parity-node.json" ]; then
  echo "[browser] kernel parity in Node (for the side-by-side numbers)"
  FASTVLM_PARITY_OUT="$artifacts/parity-node.json" run_vitest node-kernels packages/kernels/test \
    --reporter=./tools/web-ci/parity-reporter.ts
fi
for adapter in swiftshader compat; do
  echo "[browser] kernel parity in Chromium on $adapter"
  t0=$(date +%s)
  FASTVLM_PARITY_OUT="$artifacts/parity-$adapter.json" run_vitest "$adapter" \
    --config vitest.browser.config.ts --project "$adapter" --reporter=./tools/web-ci/parity-reporter.ts
  echo "[browser] $adapter: $(($(date +%s) - t0)) s"
done

echo "[browser] the page end to end (compatibility adapter)"
t0=$(date +%s)
run_vitest page --config vitest.page.config.ts
echo "[browser] page: $(($(date +%s) - t0)) s"
echo "[browser] done in $(($(date +%s) - started)) s; artifacts in $artifacts/"

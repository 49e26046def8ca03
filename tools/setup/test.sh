#!/usr/bin/env bash
# The test command (`npm test`): sets up everything a fresh machine lacks, then lints, typechecks
# and runs the test suite. Safe to re-run: each set-up step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/../.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"

bash tools/setup/node-deps.sh
bash tools/setup/install-webgpu-driver.sh
echo "[test] adapter: $(node tools/setup/probe-adapter.mjs 2>/dev/null)"
python=$(bash tools/setup/python-env.sh | tail -n 1)
FASTVLM_PYTHON="$python" bash tools/setup/fixtures.sh

echo "[test] format"
npx prettier --check . --log-level warn
echo "[test] lint"
npx eslint .
echo "[test] typecheck"
npx tsc -p tsconfig.json --noEmit
echo "[test] build"
npx tsc -b tsconfig.build.json
echo "[test] typecheck the browser page (against the built packages)"
npx tsc -p tools/web/tsconfig.json
echo "[test] typecheck the browser CI (tools/web-ci)"
npx tsc -p tools/web-ci/tsconfig.json
echo "[test] vitest"
# the kernel parity suites' max errors go to .cache/ci-artifacts/parity-node.json, for the browser CI's table
FASTVLM_PARITY_OUT=.cache/ci-artifacts/parity-node.json npx vitest run --reporter=default --reporter=json \
  --outputFile.json=.cache/vitest-report.json --reporter=./tools/web-ci/parity-reporter.ts "$@"
node tools/setup/count-tests.mjs .cache/vitest-report.json

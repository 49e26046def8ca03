#!/usr/bin/env bash
# `npm run web`: set up a fresh machine (npm packages), build the CLI, and serve the browser page with
# the tiny random demo model (or pass --model DIR): `fastvlm web --demo "$@"`.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/setup/node-deps.sh
npx tsc -b tools
if [[ " $* " == *" --model "* ]]; then exec node tools/bin/fastvlm.js web "$@"; fi
exec node tools/bin/fastvlm.js web --demo "$@"

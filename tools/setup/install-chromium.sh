#!/usr/bin/env bash
# Installs Debian's Chromium for the browser CI (`npm run test:browser`), unless it is already there
# ($FASTVLM_CHROMIUM, else /usr/bin/chromium). Playwright's own browser download is unreachable on
# this network, so playwright-core drives this one. Fails loudly when it cannot be installed: the
# browser CI is never skipped.
set -euo pipefail
chromium="${FASTVLM_CHROMIUM:-/usr/bin/chromium}"

if [ -x "$chromium" ]; then
  echo "[setup] chromium: $("$chromium" --version 2>/dev/null || echo "$chromium")"
  exit 0
fi
if [ -n "${FASTVLM_CHROMIUM:-}" ]; then
  echo "[setup] FASTVLM_CHROMIUM=$FASTVLM_CHROMIUM is not an executable" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "[setup] the browser CI needs Chromium and there is no apt-get: install chromium, or set FASTVLM_CHROMIUM" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "[setup] installing Debian's chromium (apt-get)"
$SUDO apt-get update -qq
if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null; then
  echo "[setup] apt-get install chromium failed: the browser CI cannot run" >&2
  exit 1
fi
if [ ! -x "$chromium" ]; then
  echo "[setup] chromium was installed but $chromium is missing" >&2
  exit 1
fi
echo "[setup] chromium: $("$chromium" --version 2>/dev/null)"

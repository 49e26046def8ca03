#!/usr/bin/env bash
# Installs a Vulkan driver Dawn can use when the machine has no WebGPU adapter.
# On a GPU-less Debian bookworm box that is Mesa's lavapipe (CPU Vulkan) from
# bookworm-backports: bookworm's own mesa 22.x lacks features Dawn requires.
set -euo pipefail

if node tools/setup/probe-adapter.mjs >/dev/null 2>&1; then
  echo "[setup] a WebGPU adapter is already available"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "[setup] no WebGPU adapter and no apt-get: install a Vulkan driver (e.g. Mesa lavapipe) by hand" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [ "$codename" = "bookworm" ]; then
  list=/etc/apt/sources.list.d/fastvlm-bookworm-backports.sources
  if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "[setup] adding bookworm-backports to apt sources"
    $SUDO tee "$list" >/dev/null <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
else
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
fi
echo "[setup] installed mesa-vulkan-drivers"

#!/bin/sh
# Installs what ebm-ts needs on a Debian machine, then the npm dependencies (which build the native addon and the
# TypeScript). Debian packages are installed only when apt-get is available and we are root: libopenblas-dev (GEMM
# for the native backend), chromium (the playground's end-to-end test; chromium-common brings SwiftShader, the CPU
# Vulkan driver) and libvulkan1 (the Vulkan loader that WebGPU, in Dawn and in Chromium, needs). All are optional: without OpenBLAS the
# addon uses its bundled GEMM, without a C compiler the pure-TS backend is used, without chromium that test skips.
set -e
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  missing=""
  for p in libopenblas-dev chromium libvulkan1; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    echo "setup: installing Debian packages:$missing" >&2
    { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null; } \
      || echo "setup: could not install$missing; continuing without" >&2
  fi
fi
npm ci --no-audit --no-fund

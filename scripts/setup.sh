#!/bin/sh
# Installs what ebm-ts needs on a Debian machine, then the npm dependencies (which builds the native addon and the
# TypeScript). Debian packages are installed only when apt-get is available and we are root; everything else is
# optional: without OpenBLAS the addon uses its bundled GEMM, without a C compiler the pure-TS backend is used.
set -e
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  if ! dpkg -s libopenblas-dev >/dev/null 2>&1; then
    echo "setup: installing Debian's libopenblas-dev (GEMM for the native backend)" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev >/dev/null \
      || echo "setup: could not install libopenblas-dev; the bundled GEMM kernel will be used" >&2
  fi
fi
npm ci --no-audit --no-fund

#!/usr/bin/env bash
# Installs exactly the Debian 12 packages SOS needs to build, test and
# benchmark.  Idempotent: does nothing when they are all present.
set -euo pipefail
PKGS=(
  build-essential clang lld            # host compilers (gcc and clang both build SOS)
  libclang-rt-14-dev                   # clang's ASan/UBSan/libFuzzer runtimes
  wasi-libc libclang-rt-14-dev-wasm32  # building C for wasm32-wasi
  wabt binaryen                        # wast2json, wasm-interp; wasm-opt fuzz generator
  libcjson-dev                         # JSON: spec-suite runner, control API, node state
  libuv1-dev                           # the node kernel's event loop
  libssl-dev                           # sha-256 of images, HMAC and TLS (OpenSSL)
  libhttp-parser-dev                   # the HTTP gateway's request parser
  curl openssl ca-certificates         # tests drive the gateway; a test certificate; CAs for egress
  libcurl4-openssl-dev                 # the http built-in (egress) over libcurl's multi interface
  liblmdb-dev                          # typed storage (one LMDB environment per node)
  nodejs                               # V8 reference for differential tests and bench; npm
  chromium                             # the browser tests (tests/browser.sh)
  wrk nginx-light                      # make bench: the gateway against nginx
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Browser-test tooling from npm: playwright-core, which drives Debian's
# chromium (tests/browser/package.json and its lock file pin the version).
browser=$(dirname "$0")/../tests/browser
if [ ! -f "$browser/node_modules/playwright-core/package.json" ]; then
  (cd "$browser" && npm ci --no-audit --no-fund --loglevel=error)
fi

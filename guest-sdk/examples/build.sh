#!/usr/bin/env bash
# Builds the example guests that compile to wasm here: c/fnv.wasm (Zig from PyPI) and
# assemblyscript/fnv.wasm (asc from npm, with its WASI shim). Both builds are reproducible
# and their outputs are committed, so the tests need neither toolchain.
#
#   build.sh           rebuild and overwrite the committed modules
#   build.sh --check   rebuild into a temporary directory; fail unless byte-identical
#
# Needs python3 (installs ziglang==0.17.1 if `python3 -m ziglang` is missing) and npm.
# Takes a few seconds with warm caches; bounded by `timeout` so CI cannot hang here.
set -euo pipefail
cd "$(dirname "$0")"
check=0
[ "${1:-}" = "--check" ] && check=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

python3 -m ziglang version >/dev/null 2>&1 || python3 -m pip install -q ziglang==0.17.1
(cd c && timeout 300 python3 -m ziglang cc --target=wasm32-wasi -O2 -s fnv.c -o "$out/c.wasm")

(cd assemblyscript && timeout 300 npm ci --no-audit --no-fund --silent \
  && timeout 300 node_modules/.bin/asc assembly/index.ts \
       --config ./node_modules/@assemblyscript/wasi-shim/asconfig.json -O3 --noAssert \
       --outFile "$out/as.wasm")

status=0
for pair in "c.wasm:c/fnv.wasm" "as.wasm:assemblyscript/fnv.wasm"; do
  built="$out/${pair%%:*}"
  committed="${pair#*:}"
  if [ $check = 1 ]; then
    if cmp -s "$built" "$committed"; then
      echo "ok  $committed $(sha256sum "$committed" | cut -c1-64)"
    else
      echo "DIFFERS  $committed: rebuilt $(sha256sum "$built" | cut -c1-64), committed $(sha256sum "$committed" | cut -c1-64)" >&2
      status=1
    fi
  else
    cp "$built" "$committed"
    echo "built $committed $(sha256sum "$committed" | cut -c1-64)"
  fi
done
exit $status

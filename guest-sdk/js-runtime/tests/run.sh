#!/usr/bin/env bash
# Tests for notary-js.wasm (needs node >= 20 and cargo; the wasm must be built):
#   1. tests/diff.mjs      every tests/programs/*.js under node and in the
#                          product's sandbox (`notary-worker exec`, built here
#                          unless NOTARY_WORKER_BIN names one): stdout bytes and
#                          exit code equal
#   2. tests/math-diff.mjs Math.* / ** / number formatting bit-identical to node
# Exits non-zero on any unexpected mismatch. Ends with "N passed, M failed".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -f notary-js.wasm ] || { echo "notary-js.wasm missing: run ./build.sh" >&2; exit 1; }
if [ -z "${NOTARY_WORKER_BIN:-}" ]; then
  # The worker embeds notary-js.wasm, so this also picks up a freshly built runtime.
  # Built as scripts/test.sh builds it (same features), so CI compiles it once.
  (cd ../.. && cargo build -q --workspace --all-targets)
fi
# Compile the runtime once into the module cache before jobs run side by side.
node --no-warnings tests/run-one.mjs /dev/stdin <<<"console.log('ready')" >/dev/null
rc=0
node --no-warnings tests/diff.mjs "$@" | tee /tmp/notary-js-diff.$$ || rc=1
node --no-warnings tests/math-diff.mjs 6000 | tee /tmp/notary-js-math.$$ || rc=1
p1=$(grep -E '^[0-9]+ passed, [0-9]+ failed' /tmp/notary-js-diff.$$ | tail -1 | cut -d' ' -f1)
f1=$(grep -E '^[0-9]+ passed, [0-9]+ failed' /tmp/notary-js-diff.$$ | tail -1 | cut -d' ' -f3)
p2=$(grep -E '^[0-9]+ passed, [0-9]+ failed' /tmp/notary-js-math.$$ | tail -1 | cut -d' ' -f1)
f2=$(grep -E '^[0-9]+ passed, [0-9]+ failed' /tmp/notary-js-math.$$ | tail -1 | cut -d' ' -f3)
rm -f /tmp/notary-js-diff.$$ /tmp/notary-js-math.$$
echo
echo "$(( ${p1:-0} + ${p2:-0} )) passed, $(( ${f1:-1} + ${f2:-1} )) failed"
exit $rc

#!/usr/bin/env bash
# The test command (README): every test of the workspace, against real services.
#
# - Makes sure `redis-server` is installed (tests start their own servers on free loopback
#   ports, so they can kill and restart them) and that a Redis answers: the one at
#   $NOTARY_TEST_REDIS_URL if set, else a throwaway `redis-server` started here on a free
#   port and stopped on exit. Tests that take a shared Redis read NOTARY_TEST_REDIS_URL.
# - Installs contracts/node_modules (Hardhat, solc-js, the x402 client) when missing.
# - Builds the binaries first (fleet tests spawn real `notary-worker` processes).
# - Extra arguments go to `cargo test` (e.g. `scripts/test.sh -p notary-queue --test it NAME`:
#   with `-p`, only that crate's tests).
set -euo pipefail
cd "$(dirname "$0")/.."

# redis-cli (Debian's redis-tools) creates the Redis Cluster of the cluster tests.
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing redis-server and redis-tools" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null
  else
    echo "test.sh: redis-server or redis-cli is missing: sudo apt-get install -y redis-server redis-tools" >&2
    exit 1
  fi
fi

redis_answers() {
  redis-cli -u "$1" ping 2>/dev/null | grep -q PONG
}

started_pid=""
cleanup() {
  if [ -n "$started_pid" ]; then kill "$started_pid" 2>/dev/null || true; fi
  if [ -n "${redis_dir:-}" ]; then rm -rf "$redis_dir"; fi
}
trap cleanup EXIT

if [ -z "${NOTARY_TEST_REDIS_URL:-}" ] || ! redis_answers "$NOTARY_TEST_REDIS_URL"; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  redis_dir=$(mktemp -d)
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$redis_dir" \
    --daemonize no >"$redis_dir/log" 2>&1 &
  started_pid=$!
  export NOTARY_TEST_REDIS_URL="redis://127.0.0.1:$port"
  for _ in $(seq 1 100); do redis_answers "$NOTARY_TEST_REDIS_URL" && break; sleep 0.05; done
  redis_answers "$NOTARY_TEST_REDIS_URL" || { echo "test.sh: redis-server did not start" >&2; cat "$redis_dir/log" >&2; exit 1; }
fi
echo "test.sh: Redis at $NOTARY_TEST_REDIS_URL" >&2

# Chain tests start a Hardhat 2 node and the official x402 client from contracts/node_modules.
if [ ! -x contracts/node_modules/.bin/hardhat ] || [ ! -d contracts/node_modules/standardwebhooks ]; then
  echo "test.sh: installing the contracts' npm packages (npm ci)" >&2
  (cd contracts && npm ci --no-audit --no-fund >/dev/null)
fi

# `--all-targets`, not `--bins`: the binaries are then built with the same features as
# `cargo test` resolves (dev-dependencies included), so nothing is compiled twice.
cargo build --workspace --all-targets
# With `-p CRATE` only that crate's tests run (`--workspace` would run them all).
scope=(--workspace)
for arg in "$@"; do
  case "$arg" in -p | --package | -p* | --package=*) scope=() ;; esac
done
cargo test "${scope[@]}" "$@"

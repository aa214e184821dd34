#!/usr/bin/env bash
# Benchmark of issue #2: hello-world jobs through HTTP, embedded and through a Redis fleet,
# against spawning `node -e` per job, measured in one run with notary-loadtest.
#
#   scripts/bench.sh [SECONDS] [CONCURRENCY]        (defaults: 10 s, 8 clients)
#
# Builds release binaries, starts everything on loopback (free ports), and writes JSON reports
# and SVG charts to target/bench/. Stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conc=${2:-8}
out=target/bench
mkdir -p "$out"
cargo build --release -p notary-coordinator -p notary-worker -p notary-loadtest
bin=target/release
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pids=()
tmp=$(mktemp -d)
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
wait_http() { for _ in $(seq 1 200); do curl -sf "$1/health" >/dev/null && return 0; sleep 0.05; done; echo "no answer from $1" >&2; exit 1; }

echo "== embedded: one process, in-process workers (one per core)"
port=$(free_port)
RUST_LOG=warn $bin/notary-coordinator --listen 127.0.0.1:$port 2>"$tmp/embedded.log" & pids+=($!)
wait_http http://127.0.0.1:$port
$bin/notary-loadtest --url http://127.0.0.1:$port --concurrency "$conc" --duration "$secs" --warmup 200 \
  --mix hello --baseline node --report "$out/embedded.json" --svg "$out/embedded.svg" --no-progress
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

echo "== fleet: coordinator + one notary-worker process (2 slots) on Redis"
rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" >"$tmp/redis.log" 2>&1 & pids+=($!)
for _ in $(seq 1 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.05; done
addr=$($bin/notary-worker keygen --out "$tmp/worker.key" 2>/dev/null)
port=$(free_port)
RUST_LOG=warn $bin/notary-coordinator --listen 127.0.0.1:$port --redis redis://127.0.0.1:$rport --workers 0 \
  --allow-worker "$addr" 2>"$tmp/fleet.log" & pids+=($!)
RUST_LOG=warn $bin/notary-worker --redis redis://127.0.0.1:$rport --key-file "$tmp/worker.key" --concurrency 2 \
  2>"$tmp/worker.log" & pids+=($!)
wait_http http://127.0.0.1:$port
$bin/notary-loadtest --url http://127.0.0.1:$port --concurrency "$conc" --duration "$secs" --warmup 200 \
  --mix hello --report "$out/fleet.json" --svg "$out/fleet.svg" --no-progress
echo "reports in $out/"

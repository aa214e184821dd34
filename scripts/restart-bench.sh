#!/usr/bin/env bash
# First-job latency of a (re)started notary-worker, with and without its compiled-module cache.
#
#   scripts/restart-bench.sh [ROUNDS]     (default 5; uses target/release binaries, builds them)
#
# Starts a throwaway redis-server and a coordinator (no in-process workers), publishes the C
# example module, then per round and per mode spawns a worker and times spawn -> the result of
# its first job (a POST /verify by moduleHash, answered synchronously):
#   empty  a new, empty cache directory (compiles the JS runtime and the module, writes both)
#   warm   the directory the previous "empty" run filled (a restart with the cache)
#   none   --module-cache-dir none (a restart without a cache)
# Prints each time and the median per mode.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
cargo build --release -q -p notary-coordinator -p notary-worker -p notary-pack
bin=target/release
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" >/dev/null 2>&1 &
pids+=($!)
redis="redis://127.0.0.1:$rport"
for _ in $(seq 1 100); do redis-cli -p "$rport" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
addr=$("$bin/notary-worker" keygen --out "$work/worker.key" 2>/dev/null)
cport=$(free_port)
RUST_LOG=warn "$bin/notary-coordinator" --listen "127.0.0.1:$cport" --redis "$redis" --workers 0 \
  --allow-worker "$addr" --module-cache-dir none >"$work/coordinator.log" 2>&1 &
pids+=($!)
url="http://127.0.0.1:$cport"
for _ in $(seq 1 200); do curl -sf "$url/health" >/dev/null && break; sleep 0.05; done
"$bin/notary-pack" build guest-sdk/examples/c/fnv.wasm --out "$work/fnv.json" >/dev/null
hash=$("$bin/notary-pack" publish --url "$url" "$work/fnv.json")
body=$(printf '{"taskType":"code-execution","moduleHash":"%s","inputData":%s,"expectedHash":"9fd9750faba5a820af65da42c718e6cbf06985d4a0fe56ed6f9746b983a111e1"}' \
  "$hash" "$(cat guest-sdk/examples/input.json)")

first_job_ms() { # $1: cache dir argument
  local start end result
  start=$(date +%s%N)
  RUST_LOG=warn "$bin/notary-worker" --redis "$redis" --key-file "$work/worker.key" --concurrency 1 \
    --module-cache-dir "$1" >>"$work/worker.log" 2>&1 &
  local wpid=$!
  result=$(curl -s "$url/verify" -H 'content-type: application/json' -d "$body" | grep -o '"result":"[A-Z]*"' | head -n 1)
  end=$(date +%s%N)
  kill -TERM "$wpid"; wait "$wpid" 2>/dev/null || true
  [ "$result" = '"result":"VALID"' ] || { echo "unexpected answer: $result" >&2; exit 1; }
  echo $(( (end - start) / 1000000 ))
}

declare -A times
for r in $(seq 1 "$rounds"); do
  dir="$work/cache-$r"
  e=$(first_job_ms "$dir"); w=$(first_job_ms "$dir"); n=$(first_job_ms none)
  echo "round $r: empty ${e} ms, warm ${w} ms, none ${n} ms"
  times[empty]+="$e "; times[warm]+="$w "; times[none]+="$n "
done
for mode in empty warm none; do
  median=$(echo "${times[$mode]}" | tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "median $mode: $median ms"
done

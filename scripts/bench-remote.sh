#!/usr/bin/env bash
# Redis workers vs HTTP workers (the open fleet, issue 12) on one coordinator, measured side
# by side in one run: a Redis and a coordinator (open approval); hello world run first by one
# notary-worker on the fleet's Redis, then by one notary-worker leasing over HTTP
# (--coordinator), each with the same slots, at 1 client and at CONCURRENCY clients.
#
#   scripts/bench-remote.sh [SECONDS] [CONCURRENCY] [SLOTS]     (defaults: 10 s, 8 clients, 2)
#
# An HTTP worker pays a signed request per lease, heartbeat and submission, and a coordinator
# hop for each; the Redis worker talks to Redis directly.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conc=${2:-8}
slots=${3:-2}
out=target/bench
mkdir -p "$out"
cargo build --release -p notary-coordinator -p notary-worker -p notary-loadtest --bins
source scripts/bench-lib.sh

rport=$(free_port)
start_redis "$rport"
addr=$($bin/notary-worker keygen --force --out "$tmp/redis-worker.key" 2>/dev/null)
haddr=$($bin/notary-worker keygen --force --out "$tmp/http-worker.key" 2>/dev/null)
port=$(free_port)
url=http://127.0.0.1:$port
RUST_LOG=warn $bin/notary-coordinator --listen 127.0.0.1:$port --redis redis://127.0.0.1:$rport \
  --workers 0 --allow-worker "$addr" --worker-approval open \
  --rate-limit-per-minute 0 --max-concurrent-per-agent 0 2>"$tmp/coordinator.log" & coordinator=$!
pids+=($coordinator)
wait_http "$url"

measure() {   # $1: label
  for c in 1 "$conc"; do
    echo "== $1, $c client(s)"
    $bin/notary-loadtest --url "$url" --concurrency "$c" --duration "$secs" --warmup 50 \
      --mix hello --report "$out/remote-$1-c$c.json" --no-progress
  done
}

RUST_LOG=warn $bin/notary-worker --redis redis://127.0.0.1:$rport --key-file "$tmp/redis-worker.key" \
  --concurrency "$slots" 2>"$tmp/redis-worker.log" & worker=$!
sleep 1
measure redis
kill "$worker"; wait "$worker" 2>/dev/null || true

RUST_LOG=warn $bin/notary-worker --coordinator "$url" --register provider --key-file "$tmp/http-worker.key" \
  --concurrency "$slots" 2>"$tmp/http-worker.log" & worker=$!
pids+=($worker)
for _ in $(seq 1 300); do
  curl -s "$url/workers/$haddr" | grep -q '"status":"active"' && break; sleep 0.1
done
measure http

python3 - "$out" "$conc" <<'PY'
import json, sys, pathlib
out, conc = pathlib.Path(sys.argv[1]), sys.argv[2]
rows = {}
for kind in ("redis", "http"):
    for c in ("1", conc):
        s = json.loads((out / f"remote-{kind}-c{c}.json").read_text())["service"]
        lat = s.get("latency_us") or {}
        rows[kind, c] = (s["valid_per_sec"], lat.get("p50", 0) / 1000, lat.get("p99", 0) / 1000, s["errors_total"])
print("| worker | clients | VALID jobs/s | p50 ms | p99 ms | errors |")
print("|---|---|---|---|---|---|")
for (kind, c), (rate, p50, p99, errors) in rows.items():
    print(f"| {kind} | {c} | {rate:.0f} | {p50:.2f} | {p99:.2f} | {errors} |")
for c in ("1", conc):
    r, h = rows["redis", c], rows["http", c]
    print(f"{c} client(s): HTTP / Redis throughput {h[0] / r[0]:.2f}x, p50 {h[1] / r[1]:.2f}x")
PY

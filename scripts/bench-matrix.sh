#!/usr/bin/env bash
# The benchmark matrix of issue #4 (the performance benchmark is scripts/bench.sh), each row
# measured with notary-loadtest in one run:
#
#   mixes:   hello (console.log) and cpu (a 10^6-step JavaScript loop)
#   targets: embedded (one process, one worker slot per core), a Redis fleet with 1 and with 2
#            notary-worker processes (1 slot each), and node (`node -e` per job, the
#            process-per-job baseline, run right after the embedded phase)
#   plus:    the cost of fuel metering (worker/examples/fuel_cost.rs: the same guests with
#            metering on and off, as a ratio)
#
#   scripts/bench-matrix.sh [SECONDS] [CONCURRENCY]        (defaults: 10 s, 8 clients)
#
# Builds release binaries, starts everything on loopback (free ports), writes JSON reports
# and SVG charts to target/bench/ and prints one table. Stops everything it started.
# The per-IP limits are off for the runs (--rate-limit-per-minute 0 --max-concurrent-per-agent 0).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conc=${2:-8}
out=target/bench
mkdir -p "$out"
cargo build --release -p notary-coordinator -p notary-worker -p notary-loadtest --bins --examples
source scripts/bench-lib.sh
load() { # NAME MIX URL [extra loadtest args]
  local name=$1 mix=$2 url=$3; shift 3
  echo "== $name"
  $bin/notary-loadtest --url "$url" --concurrency "$conc" --duration "$secs" --warmup 100 \
    --mix "$mix" --report "$out/$name.json" --svg "$out/$name.svg" --no-progress "$@"
}

for mix in hello cpu; do
  port=$(free_port)
  rm -rf "$tmp/embedded-data"   # the durable default, fresh for each mix
  RUST_LOG=warn $bin/notary-coordinator --listen 127.0.0.1:$port --rate-limit-per-minute 0 --max-concurrent-per-agent 0 \
    --data-dir "$tmp/embedded-data" 2>"$tmp/embedded.log" & pids+=($!)
  wait_http http://127.0.0.1:$port
  load "$mix-embedded" "$mix" http://127.0.0.1:$port --baseline node
  stop_all

  for workers in 1 2; do
    rport=$(free_port)
    redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly yes --appendfsync everysec \
      --dir "$tmp" >"$tmp/redis.log" 2>&1 & pids+=($!)
    for _ in $(seq 1 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.05; done
    addr=$($bin/notary-worker keygen --force --out "$tmp/worker.key" 2>/dev/null)
    port=$(free_port)
    RUST_LOG=warn $bin/notary-coordinator --listen 127.0.0.1:$port --redis redis://127.0.0.1:$rport \
      --workers 0 --allow-worker "$addr" --rate-limit-per-minute 0 --max-concurrent-per-agent 0 2>"$tmp/fleet.log" & pids+=($!)
    for w in $(seq 1 "$workers"); do
      RUST_LOG=warn $bin/notary-worker --redis redis://127.0.0.1:$rport --key-file "$tmp/worker.key" \
        --concurrency 1 2>"$tmp/worker-$w.log" & pids+=($!)
    done
    wait_http http://127.0.0.1:$port
    load "$mix-fleet-${workers}w" "$mix" http://127.0.0.1:$port
    stop_all
    rm -rf "$tmp"/appendonly*
  done
done

echo "== fuel metering on vs off"
$bin/examples/fuel_cost 100 | tee "$out/fuel.txt"

python3 - "$out" <<'PY'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
rows = []
for mix in ("hello", "cpu"):
    emb = json.loads((out / f"{mix}-embedded.json").read_text())
    def row(name, s):
        lat = s.get("latency_us") or {}
        return (mix, name, s["valid_per_sec"], lat.get("p50", 0) / 1000, lat.get("p99", 0) / 1000, s["errors_total"])
    rows.append(row("embedded", emb["service"]))
    for w in (1, 2):
        rows.append(row(f"fleet, {w} worker(s)", json.loads((out / f"{mix}-fleet-{w}w.json").read_text())["service"]))
    rows.append(row("node per job", emb["node"]))
print(f"\n{'mix':6} {'target':22} {'jobs/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7} {'x node':>8}")
node = {r[0]: r for r in rows if r[1] == "node per job"}
for r in rows:
    ratio = r[2] / node[r[0]][2] if node[r[0]][2] else float("nan")
    print(f"{r[0]:6} {r[1]:22} {r[2]:9.1f} {r[3]:9.2f} {r[4]:9.2f} {r[5]:7} {ratio:7.1f}x")
print()
print((out / "fuel.txt").read_text())
PY
echo "reports in $out/"

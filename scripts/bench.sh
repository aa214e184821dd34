#!/usr/bin/env bash
# The performance benchmark (issue #23), every row measured with notary-loadtest in one run, so
# the ratios between rows are what counts on this noisy machine:
#
#   embedded   one notary-coordinator process (worker slots = cores): one client (latency),
#              then CLIENTS clients (saturation) with the process-per-job baseline (`node -e`
#              per job, same clients) run right after it
#   fleet      a coordinator with --workers 0 and one notary-worker process (slots = cores) on
#              one Redis: one client, then CLIENTS clients; the Redis commands and network reads
#              (~ round trips) per job over the saturated phase, from INFO commandstats / stats
#   scaling    the same fleet with 1, 2 and 4 notary-worker processes of one slot each
#
#   scripts/bench.sh [SECONDS] [CLIENTS]        (defaults: 10 s per phase, 16 clients)
#
# Builds release binaries, starts everything on loopback (free ports), writes JSON reports to
# target/bench/perf-*.json and prints one table. Stops everything it started. Per-IP limits off.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
clients=${2:-16}
out=target/bench
mkdir -p "$out"
cargo build --release -p notary-coordinator -p notary-worker -p notary-loadtest --bins
source scripts/bench-lib.sh
cores=$(nproc)
limits=(--rate-limit-per-minute 0 --max-concurrent-per-agent 0)

load() { # NAME CLIENTS URL [extra loadtest args]
  local name=$1 n=$2 url=$3; shift 3
  echo "== $name ($n clients, ${secs}s)"
  $bin/notary-loadtest --url "$url" --concurrency "$n" --duration "$secs" --warmup 200 \
    --mix hello --report "$out/perf-$name.json" --no-progress "$@" >/dev/null
}

# ---- embedded ---------------------------------------------------------------------------
port=$(free_port)
RUST_LOG=warn $bin/notary-coordinator --listen 127.0.0.1:$port "${limits[@]}" --data-dir "$tmp/embedded" \
  2>"$tmp/embedded.log" & pids+=($!)
wait_http http://127.0.0.1:$port
load embedded-c1 1 http://127.0.0.1:$port
load embedded-sat "$clients" http://127.0.0.1:$port --baseline node
stop_all

# ---- fleet ------------------------------------------------------------------------------
addr=$($bin/notary-worker keygen --force --out "$tmp/worker.key" 2>/dev/null)
fleet() { # NAME WORKERS SLOTS CLIENTS_LIST...
  local name=$1 workers=$2 slots=$3; shift 3
  local rport port
  rport=$(free_port)
  start_redis "$rport"
  port=$(free_port)
  RUST_LOG=warn $bin/notary-coordinator --listen 127.0.0.1:$port --redis redis://127.0.0.1:$rport \
    --workers 0 --allow-worker "$addr" "${limits[@]}" 2>"$tmp/$name.log" & pids+=($!)
  for w in $(seq 1 "$workers"); do
    RUST_LOG=warn $bin/notary-worker --redis redis://127.0.0.1:$rport --key-file "$tmp/worker.key" \
      --concurrency "$slots" 2>"$tmp/$name-worker-$w.log" & pids+=($!)
  done
  wait_http http://127.0.0.1:$port
  for n in "$@"; do
    # warm up first, then count only the measured phase's Redis traffic
    $bin/notary-loadtest --url http://127.0.0.1:$port --concurrency "$n" --jobs 200 --mix hello \
      --no-progress >/dev/null
    redis-cli -p "$rport" CONFIG RESETSTAT >/dev/null
    load "$name-c$n" "$n" http://127.0.0.1:$port
    redis-cli -p "$rport" INFO commandstats >"$out/perf-$name-c$n.commandstats"
    redis-cli -p "$rport" INFO stats >"$out/perf-$name-c$n.stats"
  done
  stop_all
}
fleet fleet 1 "$cores" 1 "$clients"
for w in 1 2 4; do fleet "scale-${w}w" "$w" 1 "$clients"; done

python3 - "$out" "$clients" <<'PY'
import json, re, sys, pathlib
out, clients = pathlib.Path(sys.argv[1]), int(sys.argv[2])
def rep(name):
    return json.loads((out / f"perf-{name}.json").read_text())
def redis(name, jobs):
    cs = (out / f"perf-{name}.commandstats")
    if not cs.exists() or not jobs:
        return "", ""
    calls = {}
    for m in re.finditer(r"cmdstat_(\w+):calls=(\d+)", cs.read_text()):
        calls[m.group(1)] = int(m.group(2))
    calls.pop("config", None); calls.pop("info", None)
    reads = re.search(r"total_reads_processed:(\d+)", (out / f"perf-{name}.stats").read_text())
    top = ", ".join(f"{k} {v / jobs:.2f}" for k, v in sorted(calls.items(), key=lambda kv: -kv[1])[:8])
    return f"{sum(calls.values()) / jobs:.1f}", f"{int(reads.group(1)) / jobs:.1f}" if reads else "", top
rows = []
emb = rep("embedded-sat")
node = emb["node"]["valid_per_sec"]
def row(label, name, key="service"):
    s = rep(name)[key]
    lat = s.get("latency_us") or {}
    r = redis(name, s.get("valid", 0)) if key == "service" else ("", "", "")
    rows.append((label, s["valid_per_sec"], lat.get("p50", 0) / 1000, lat.get("p99", 0) / 1000, s["errors_total"], *r[:2]))
    return s, r
row("embedded, 1 client", "embedded-c1")
row(f"embedded, {clients} clients", "embedded-sat")
row(f"node -e per job, {clients} clients", "embedded-sat", "node")
row("fleet 1 worker, 1 client", "fleet-c1")
_, fleet_redis = row(f"fleet 1 worker, {clients} clients", f"fleet-c{clients}")
for w in (1, 2, 4):
    row(f"fleet {w} x 1-slot workers, {clients} cl.", f"scale-{w}w-c{clients}")
print(f"\n{'target':36} {'jobs/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'cmds/job':>8} {'reads/job':>9}")
for r in rows:
    print(f"{r[0]:36} {r[1]:8.1f} {r[2]:7.2f} {r[3]:7.2f} {r[4]:6} {r[5]:>8} {r[6]:>9}")
sat = rep(f"fleet-c{clients}")["service"]["valid_per_sec"]
print(f"\nembedded / node-per-job at {clients} clients: {emb['service']['valid_per_sec'] / node:.1f}x")
print(f"fleet / embedded at {clients} clients: {sat / emb['service']['valid_per_sec']:.2f}x")
if len(fleet_redis) > 2:
    print(f"fleet commands per job (top): {fleet_redis[2]}")
PY
echo "reports in $out/perf-*"

#!/usr/bin/env bash
# Tier 1 vs tier 3 on one fleet, measured side by side in one run: a Redis, three
# notary-worker processes with keys of their own (1 slot each) and a coordinator; hello world
# at tier 1 (one worker decides), then the same jobs at tier 3 (three jurors each).
#
#   scripts/bench-jury.sh [SECONDS] [CONCURRENCY]        (defaults: 10 s, 8 clients)
#
# A tier-3 job is three runs, so its throughput should be about a third of tier 1's on the
# same workers; its latency only a little higher, since the jurors run in parallel.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conc=${2:-8}
out=target/bench
mkdir -p "$out"
cargo build --release -p notary-coordinator -p notary-worker -p notary-loadtest --bins
source scripts/bench-lib.sh

rport=$(free_port)
start_redis "$rport"
allow=()
for w in 1 2 3; do
  addr=$($bin/notary-worker keygen --force --out "$tmp/worker-$w.key" 2>/dev/null)
  allow+=(--allow-worker "$addr")
done
port=$(free_port)
RUST_LOG=warn $bin/notary-coordinator --listen 127.0.0.1:$port --redis redis://127.0.0.1:$rport \
  --workers 0 "${allow[@]}" --rate-limit-per-minute 0 --max-concurrent-per-agent 0 2>"$tmp/coordinator.log" & pids+=($!)
for w in 1 2 3; do
  RUST_LOG=warn $bin/notary-worker --redis redis://127.0.0.1:$rport --key-file "$tmp/worker-$w.key" \
    --concurrency 1 2>"$tmp/worker-$w.log" & pids+=($!)
done
wait_http "http://127.0.0.1:$port"
sleep 1   # the workers announce themselves; a tier-3 job needs all three alive

for tier in 1 3; do
  echo "== hello, trust tier $tier"
  $bin/notary-loadtest --url http://127.0.0.1:$port --concurrency "$conc" --duration "$secs" --warmup 50 \
    --mix hello --trust-tier "$tier" --report "$out/jury-tier$tier.json" --no-progress
done

python3 - "$out" <<'PY'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
rows = {}
for tier in (1, 3):
    s = json.loads((out / f"jury-tier{tier}.json").read_text())["service"]
    lat = s.get("latency_us") or {}
    rows[tier] = (s["valid_per_sec"], lat.get("p50", 0) / 1000, lat.get("p99", 0) / 1000, s["errors_total"])
print("| trust tier | VALID jobs/s | p50 ms | p99 ms | errors |")
print("|---|---|---|---|---|")
for tier, (rate, p50, p99, errors) in rows.items():
    print(f"| {tier} | {rate:.0f} | {p50:.2f} | {p99:.2f} | {errors} |")
r1, r3 = rows[1], rows[3]
print(f"\ntier 3 / tier 1: throughput {r3[0] / r1[0]:.2f}x, p50 {r3[1] / r1[1]:.2f}x")
PY

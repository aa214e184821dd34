#!/usr/bin/env bash
# The cost of the durable embedded default (issue 10): hello-world throughput and latency of
# an embedded coordinator with its SQLite database in a file (the default), in memory
# (`--data-dir none`), and in a file with `--fsync`, measured with notary-loadtest in one run.
#
#   scripts/bench-store.sh [SECONDS] [CONCURRENCY]      (defaults: 10 s, 16 clients)
#
# Builds release binaries, runs each target on a free loopback port, prints one table with
# each row's throughput relative to `--data-dir none`. Reports in target/bench/store-*.json.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conc=${2:-16}
out=target/bench
mkdir -p "$out"
cargo build --release -p notary-coordinator -p notary-loadtest --bins
bin=target/release
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pid=""
tmp=$(mktemp -d)
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
wait_http() { for _ in $(seq 1 600); do curl -sf "$1/ready" >/dev/null && return 0; sleep 0.05; done; echo "no answer from $1" >&2; exit 1; }

run() { # NAME [coordinator args]
  local name=$1; shift
  local port; port=$(free_port)
  RUST_LOG=warn $bin/notary-coordinator --listen 127.0.0.1:$port --rate-limit-per-minute 0 \
    --max-concurrent-per-agent 0 "$@" 2>"$tmp/$name.log" & pid=$!
  wait_http http://127.0.0.1:$port
  echo "== $name ($*)"
  $bin/notary-loadtest --url http://127.0.0.1:$port --concurrency "$conc" --duration "$secs" \
    --warmup 200 --mix hello --report "$out/store-$name.json" --no-progress >/dev/null
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}

run memory --data-dir none
run file --data-dir "$tmp/file"
run fsync --data-dir "$tmp/fsync" --fsync

python3 - "$out" "$conc" <<'PY'
import json, sys, pathlib
out, conc = pathlib.Path(sys.argv[1]), sys.argv[2]
rows = {n: json.loads((out / f"store-{n}.json").read_text())["service"] for n in ("memory", "file", "fsync")}
base = rows["memory"]["valid_per_sec"]
print(f"\nhello world, {conc} clients")
print(f"{'store':34} {'jobs/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'vs none':>8}")
names = {"memory": "--data-dir none (in memory)", "file": "--data-dir DIR (default)", "fsync": "--data-dir DIR --fsync"}
for n, s in rows.items():
    lat = s.get("latency_us") or {}
    print(f"{names[n]:34} {s['valid_per_sec']:9.1f} {lat.get('p50', 0)/1000:8.2f} {lat.get('p99', 0)/1000:8.2f} {s['errors_total']:7} {s['valid_per_sec']/base:7.2f}x")
PY

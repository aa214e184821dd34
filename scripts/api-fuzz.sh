#!/usr/bin/env bash
# Property-based API fuzzing: schemathesis (from PyPI) generates requests from the live
# coordinator's /openapi.json and checks every answer: no 5xx, status codes, content types,
# headers and bodies as documented.
#
#   scripts/api-fuzz.sh [MAX_EXAMPLES]        (default 100 per operation; under a minute here)
#
# Uses the debug coordinator (built like the test command builds it), embedded with one worker
# slot, a small fuel budget and the rate limit off, on a free loopback port. schemathesis is
# installed into a venv under target/ on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${1:-100}
venv=target/api-fuzz-venv
if ! "$venv/bin/schemathesis" --version >/dev/null 2>&1; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'schemathesis>=4,<5'
fi
cargo build --workspace --bins
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
data=$(mktemp -d)   # the durable embedded default, in a throwaway directory
RUST_LOG=warn target/debug/notary-coordinator --listen "127.0.0.1:$port" --workers 1 --data-dir "$data" \
  --rate-limit-per-minute 0 --max-concurrent-per-agent 0 --fuel 200000000 --sync-wait-ms 5000 \
  --module-cache-dir target/debug/notary-test-module-cache 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$log" "$data"' EXIT
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  kill -0 $pid 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
timeout 900 "$venv/bin/schemathesis" run "http://127.0.0.1:$port/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --max-examples "$examples" --seed 4 --request-timeout 30 \
  --generation-database none --no-color --workers 2

#!/usr/bin/env bash
# Property-based API fuzzing: schemathesis (from PyPI) generates requests from the live
# coordinator's /openapi.json and checks every answer: no 5xx, status codes, content types,
# headers and bodies as documented.
#
#   scripts/api-fuzz.sh [MAX_EXAMPLES]        (default 100 per operation; under a minute here)
#
# Uses the debug coordinator (built like the test command builds it), embedded with one worker
# slot, a small fuel budget and the rate limit off, on a free loopback port. schemathesis and
# its dependencies, pinned in scripts/api-fuzz-requirements.txt, are installed into a venv
# under target/ on first use. scripts/api-fuzz.toml gives the webhook routes two registered
# webhooks and their secrets (registered here, delivering to a closed loopback port).
# One schemathesis worker: with two, Hypothesis describes lambdas (ast.parse) on two threads at
# once, and CPython 3.11's AST recursion counter is shared between threads: CI once failed with
# "AST constructor recursion depth mismatch" inside the tool, not the API.
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${1:-100}
venv=target/api-fuzz-venv
requirements=scripts/api-fuzz-requirements.txt
if ! cmp -s "$requirements" "$venv/requirements.txt"; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --no-deps -r "$requirements"
  cp "$requirements" "$venv/requirements.txt"
fi
cargo build --workspace --all-targets   # as scripts/test.sh builds it: no second build
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
data=$(mktemp -d)   # the durable embedded default, in a throwaway directory
RUST_LOG=warn target/debug/notary-coordinator --listen "127.0.0.1:$port" --workers 1 --data-dir "$data" \
  --rate-limit-per-minute 0 --max-concurrent-per-agent 0 --fuel 200000000 --sync-wait-ms 5000 \
  --webhook-allow-network 127.0.0.1/32 \
  --module-cache-dir target/debug/notary-test-module-cache 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$log" "$data"' EXIT
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  kill -0 $pid 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
register() {
  curl -sf -X POST "http://127.0.0.1:$port/webhooks/register" -H 'content-type: application/json' \
    -d "{\"url\":\"http://127.0.0.1:9/hook\",\"events\":[\"verification.completed\"],\"secret\":\"$1\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'
}
export NOTARY_FUZZ_WEBHOOK_SECRET=fuzz-read-secret-0123456789abcdef
export NOTARY_FUZZ_DELETE_WEBHOOK_SECRET=fuzz-delete-secret-0123456789abcdef
NOTARY_FUZZ_WEBHOOK_ID=$(register "$NOTARY_FUZZ_WEBHOOK_SECRET")
NOTARY_FUZZ_DELETE_WEBHOOK_ID=$(register "$NOTARY_FUZZ_DELETE_WEBHOOK_SECRET")
NOTARY_FUZZ_JOB_ID=$(curl -sf "http://127.0.0.1:$port/verify" -H 'content-type: application/json' \
  -d '{"taskType":"code-execution","code":"console.log(\"hello world\")","expectedHash":"a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447"}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["jobId"])')
export NOTARY_FUZZ_WEBHOOK_ID NOTARY_FUZZ_DELETE_WEBHOOK_ID NOTARY_FUZZ_JOB_ID
timeout 900 "$venv/bin/schemathesis" --config-file scripts/api-fuzz.toml run "http://127.0.0.1:$port/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --max-examples "$examples" --seed 4 --request-timeout 30 \
  --generation-database none --no-color --workers 1

# Shared by the benchmark scripts (source it after `cd` to the repository root): release
# binaries in $bin, a scratch directory $tmp removed on exit, the PIDs in $pids killed on exit.
#
#   free_port            a free loopback TCP port
#   start_redis PORT     a throwaway redis-server on PORT (no persistence), waited for
#   wait_http URL        waits until URL/ready answers (30 s at most)
#   stop_all             kills everything started so far
bin=target/release
pids=()
tmp=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=(); }
cleanup() { stop_all; rm -rf "$tmp"; }
trap cleanup EXIT
wait_http() { for _ in $(seq 1 600); do curl -sf "$1/ready" >/dev/null && return 0; sleep 0.05; done; echo "no answer from $1" >&2; exit 1; }
start_redis() {
  redis-server --port "$1" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" >"$tmp/redis-$1.log" 2>&1 & pids+=($!)
  for _ in $(seq 1 100); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "redis-server on $1 did not start" >&2; exit 1
}

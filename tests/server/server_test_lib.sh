# Shared by the server's shell tests: start `qwen3vl serve` on a free
# loopback port, wait until it is ready, stop it at exit, and small checks.
# Usage: source it, then `start_server NAME [serve options...]`; sets PORT,
# SERVER_PID and URL.
set -euo pipefail

CLI=${QWEN3VL_CLI:?set QWEN3VL_CLI to the qwen3vl binary}
FIXTURES=${QWEN3VL_FIXTURES:?set QWEN3VL_FIXTURES to tests/fixtures}
WORK=$(mktemp -d /tmp/qwen3vl-server-test.XXXXXX)
SERVER_PIDS=()
FAILURES=0

cleanup() {
  for pid in "${SERVER_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

start_server() {
  local name=$1
  shift
  "$CLI" serve --port 0 -q "$@" >"$WORK/$name.log" 2>&1 &
  SERVER_PID=$!
  SERVER_PIDS+=("$SERVER_PID")
  PORT=""
  for _ in $(seq 1 300); do
    if [ -z "$PORT" ]; then
      # (the log may not exist yet in the first instant)
      PORT=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/$name.log" 2>/dev/null | head -1 || true)
    fi
    if [ -n "$PORT" ] && curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; then
      URL="http://127.0.0.1:$PORT"
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "server $name did not become ready:"
  cat "$WORK/$name.log"
  exit 1
}

fail() {
  echo "FAIL: $*"
  FAILURES=$((FAILURES + 1))
}

pass() { echo "ok: $*"; }

# expect_contains WHAT HAYSTACK NEEDLE
expect_contains() {
  if [[ "$2" == *"$3"* ]]; then pass "$1"; else fail "$1: expected to find [$3] in [${2:0:600}]"; fi
}

expect_eq() {
  if [ "$2" == "$3" ]; then pass "$1"; else fail "$1: expected [$3], got [${2:0:600}]"; fi
}

# A field of a JSON document, read with node (JSON.parse + a JS expression on `j`).
json() { node -e 'const j = JSON.parse(require("fs").readFileSync(0, "utf8")); const v = eval(process.argv[1]); process.stdout.write(typeof v === "string" ? v : JSON.stringify(v));' "$1"; }

finish() {
  if [ "$FAILURES" -ne 0 ]; then
    echo "$FAILURES check(s) failed"
    exit 1
  fi
  echo "all checks passed"
}

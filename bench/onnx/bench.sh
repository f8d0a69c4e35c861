#!/usr/bin/env bash
# ONNX Runtime (onnxruntime-node, CPU, 2 threads) on our int4 export of the
# 4B-shaped random model, side by side with `qwen3vl bench` on our q4 file of
# the same model, in one run. Run under the shared bench lock:
#   flock /tmp/qwen3vl-bench.lock bench/onnx/bench.sh [MODEL_DIR] [Q4_FILE] [EXPORT_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
MODEL="${1:-/work/models/4b}"
Q4="${2:-/work/models/4b-q4.qwen3vl}"
OUT="${3:-/tmp/qwen3vl-4b-onnx-int4}"
QWEN3VL="$ROOT/build/bin/qwen3vl"
grep -m1 'model name' /proc/cpuinfo
/usr/bin/time -f "export: %e s wall, peak RSS %M KB" "$QWEN3VL" export-onnx -m "$MODEL" -o "$OUT" --precision int4 -q
echo "files:"
du -b "$OUT"/*.onnx "$OUT"/*.data 2>/dev/null | sort -k2
echo "export total (graphs + data): $(cat "$OUT"/*.onnx "$OUT"/*.data 2>/dev/null | wc -c) bytes; our q4 file: $(stat -c %s "$Q4") bytes"
cat "$OUT"/*.onnx "$OUT"/*.data > /dev/null 2>&1 || true  # page cache warm, as for our file
cat "$Q4" > /dev/null
echo "onnxruntime-node:"
node "$ROOT/bench/onnx/ort_bench.mjs" "$OUT"
echo "qwen3vl bench:"
"$QWEN3VL" bench -m "$Q4" --json

#!/usr/bin/env bash
# Exports the tiny fixture to ONNX and runs the exports in the real runtimes:
# ONNX Runtime for Node.js (onnxruntime-node) and transformers.js
# (@huggingface/transformers), installed in examples/onnx/node_modules by
# scripts/setup. Usage: run_onnx_tests.sh QWEN3VL_BINARY
set -euo pipefail
QWEN3VL="$1"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
FIXTURE="$ROOT/tests/fixtures/tiny-qwen3vl"
GOLDEN="$FIXTURE/golden"
if [ ! -d "$ROOT/examples/onnx/node_modules/onnxruntime-node" ]; then
  echo "FAIL: examples/onnx/node_modules is missing: run scripts/setup (installs onnxruntime-node with npm)"
  exit 1
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# 1. fp32 genai export; ORT's vision outputs vs our engine on 1, 2 and 3
#    images of different sizes in one call (grids the export never saw).
"$QWEN3VL" export-onnx -m "$FIXTURE" -o "$WORK/genai" -q
cp "$GOLDEN"/img_*.{png,jpg} "$WORK/"
cat > "$WORK/one.json" <<'JSON'
[{"role":"user","content":[{"type":"image","image":"img_400x300.png"},{"type":"text","text":"Describe."}]}]
JSON
cat > "$WORK/two.json" <<'JSON'
[{"role":"user","content":[{"type":"image","image":"img_240x520.jpg"},{"type":"image","image":"img_640x360.png"},{"type":"text","text":"Compare."}]}]
JSON
cat > "$WORK/three.json" <<'JSON'
[{"role":"user","content":[{"type":"image","image":"img_640x360.png"},{"type":"image","image":"img_400x300.png"},{"type":"image","image":"img_240x520.jpg"},{"type":"text","text":"All three."}]}]
JSON
for n in one two three; do
  "$QWEN3VL" dump -m "$FIXTURE" --messages "$WORK/$n.json" -n 1 -o "$WORK/$n.safetensors" 2>/dev/null
done
node "$ROOT/tests/onnx/vision_test.mjs" "$WORK/genai" "$WORK/one.safetensors" "$WORK/two.safetensors" "$WORK/three.safetensors"

# 2. examples/onnx/run.mjs reproduces the golden greedy ids of cases 1-3.
node "$ROOT/tests/onnx/golden_ids_test.mjs" "$WORK/genai" "$GOLDEN" "$QWEN3VL" case1_text case2_one_image case3_two_images

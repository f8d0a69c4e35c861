#!/usr/bin/env bash
# What a chat's next turn costs: three turns of `qwen3vl chat --json` (an
# image and a question, then two follow-ups) on one session, against a fresh
# `qwen3vl run` of the whole last conversation. Prints prompt tokens, tokens
# reused from the cache and prefilled, time to first token, and whether the
# last answer equals the fresh run's.
#   usage: flock /tmp/qwen3vl-bench.lock bench/chat_turns.sh MODEL [QWEN3VL_BINARY]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
model="$1"
bin="${2:-$root/build/bin/qwen3vl}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
image="$root/tests/fixtures/tiny-qwen3vl/golden/img_640x360.png"
printf '/image %s\nDescribe this picture in detail, please.\nWhat colours dominate?\nAnd what might be just outside the frame?\n/save %s\n' \
  "$image" "$tmp/conversation.json" |
  "$bin" chat -m "$model" -t 2 -n 16 --temp 0 -q --json >"$tmp/chat.jsonl"
# The fresh run gets the conversation up to the last question.
python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); json.dump(m[:-1], open(sys.argv[2], "w"))' \
  "$tmp/conversation.json" "$tmp/fresh_messages.json"
"$bin" run -m "$model" -t 2 --messages "$tmp/fresh_messages.json" -n 16 --temp 0 --json -q >"$tmp/fresh.json"
python3 - "$tmp/chat.jsonl" "$tmp/fresh.json" <<'PY'
import json, sys
turns = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
fresh = json.load(open(sys.argv[2]))
print("| | prompt tokens | reused | prefilled | first token after |")
print("|---|---|---|---|---|")
for i, t in enumerate(turns, 1):
    print(f"| chat turn {i} | {t['prompt_tokens']} | {t['reused_tokens']} | {t['prefilled_tokens']} | {t['ttft_ms'] / 1000:.1f} s |")
f = fresh["timings"]
print(f"| fresh run of turn {len(turns)} | {f['prompt_tokens']} | {f['reused_tokens']} | {f['prefilled_tokens']} | {f['ttft_ms'] / 1000:.1f} s |")
print(f"last answer equals the fresh run's: {turns[-1]['text'] == fresh['text']}")
print(f"first token {f['ttft_ms'] / turns[-1]['ttft_ms']:.1f}x sooner than fresh")
PY

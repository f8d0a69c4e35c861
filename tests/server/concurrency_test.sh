#!/usr/bin/env bash
# Continuous batching over HTTP: `qwen3vl serve --parallel 8` with the
# embedded tiny model. Each request is first answered alone; then 8 clients
# send 3 requests each at once (some streamed, one sampled with a seed),
# beside clients sending malformed requests. Every answer must equal the
# same request's answer alone, the bad requests get their 4xx, the decode
# steps were really batched (/metrics), and the server stays healthy.
# Then a streaming client that disconnects frees its slot long before its
# answer would have ended, while another request is served beside it.
source "$(dirname "$0")/server_test_lib.sh"

start_server conc --parallel 8 --read-timeout 5
POST=(-s -H "Content-Type: application/json")
PROMPTS=("Tell me about the sea." "Count to five." "Why is the sky blue?" "Name three fruits." "Describe a cat." \
  "What is rain?")
body() {  # INDEX [STREAM]
  local extra=""
  [ "${2:-}" == stream ] && extra=', "stream": true'
  if [ "$1" -eq 5 ]; then extra="$extra, \"temperature\": 0.9, \"seed\": 7"; else extra="$extra, \"temperature\": 0"; fi
  printf '{"messages": [{"role": "user", "content": "%s"}], "max_tokens": %d%s}' "${PROMPTS[$1]}" $((10 + $1)) "$extra"
}
content_of() {  # FILE: the answer text of a whole or streamed response
  if grep -q '^data: ' "$1"; then
    grep '^data: {' "$1" | sed 's/^data: //' |
      node -e 'let t = ""; for (const l of require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean)) { const c = JSON.parse(l); if (c.choices.length && c.choices[0].delta.content) t += c.choices[0].delta.content; } process.stdout.write(t);'
  else
    json 'j.choices[0].message.content' <"$1"
  fi
}

for i in "${!PROMPTS[@]}"; do
  curl "${POST[@]}" -d "$(body "$i")" "$URL/v1/chat/completions" >"$WORK/alone_$i.json"
  [ -n "$(content_of "$WORK/alone_$i.json")" ] || fail "alone $i: no answer: $(head -c 300 "$WORK/alone_$i.json")"
done

PIDS=()
for c in $(seq 0 7); do
  (
    for r in 0 1 2; do
      i=$(((c + r * 3) % ${#PROMPTS[@]}))
      mode=whole
      [ $(((c + r) % 2)) -eq 1 ] && mode=stream
      curl "${POST[@]}" -N -m 120 -d "$(body "$i" "$mode")" "$URL/v1/chat/completions" >"$WORK/c${c}_r${r}_$i.out"
    done
  ) &
  PIDS+=($!)
done
(
  for _ in 1 2 3; do
    curl -s -o "$WORK/bad_json.out" -w '%{http_code}\n' -H "Content-Type: application/json" \
      -d '{"messages": [{"role": "user", "content": "hi"' "$URL/v1/chat/completions" >>"$WORK/bad_status.txt"
    curl -s -o "$WORK/bad_image.out" -w '%{http_code}\n' -H "Content-Type: application/json" \
      -d '{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,aGVsbG8="}}]}]}' \
      "$URL/v1/chat/completions" >>"$WORK/bad_status.txt"
  done
) &
PIDS+=($!)
for pid in "${PIDS[@]}"; do wait "$pid" || fail "a client exited with an error"; done

SAME=0
for f in "$WORK"/c*_r*_*.out; do
  i=${f##*_}
  i=${i%.out}
  got=$(content_of "$f")
  want=$(content_of "$WORK/alone_$i.json")
  if [ "$got" == "$want" ]; then SAME=$((SAME + 1)); else fail "$(basename "$f"): [$got] differs from alone [$want]"; fi
done
expect_eq "24 concurrent answers equal to their answers alone" "$SAME" "24"
expect_eq "malformed requests among them refused" "$(sort -u "$WORK/bad_status.txt" | tr '\n' ' ')" "400 "
M=$(curl -s "$URL/metrics")
BATCH=$(echo "$M" | sed -n 's/^qwen3vl_decode_batch_max \([0-9]*\).*/\1/p')
if [ "${BATCH:-0}" -ge 2 ] && [ "$BATCH" -le 8 ]; then pass "decode steps batched (largest batch $BATCH of 8 slots)"
else fail "no batched decode step, or more than 8 slots in one: $BATCH"; fi
expect_eq "healthy after the burst" "$(curl -s "$URL/health" | json j.status)" "ok"
R=$(curl "${POST[@]}" -d "$(body 0)" "$URL/v1/chat/completions")
expect_eq "a normal request after the burst" "$(echo "$R" | json 'j.choices[0].message.content')" \
  "$(content_of "$WORK/alone_0.json")"

# A client that leaves mid-stream: its slot is free again long before the
# 4000 tokens it asked for, and a request beside it is answered as alone.
metric() { curl -s "$URL/metrics" | sed -n "s/^$1 \([0-9.]*\).*/\1/p"; }
TOKENS_BEFORE=$(metric qwen3vl_completion_tokens_total)
CANCELLED_BEFORE=$(metric qwen3vl_requests_cancelled_total)
curl "${POST[@]}" -N -d '{"messages": [{"role": "user", "content": "Talk forever."}], "max_tokens": 4000, "stream": true,
  "temperature": 0}' "$URL/v1/chat/completions" >"$WORK/leaving.out" 2>/dev/null &
LEAVER=$!
for _ in $(seq 1 500); do grep -q '"content"' "$WORK/leaving.out" 2>/dev/null && break; sleep 0.01; done
kill "$LEAVER" 2>/dev/null || true
wait "$LEAVER" 2>/dev/null || true
R=$(curl "${POST[@]}" -d "$(body 1)" "$URL/v1/chat/completions")
expect_eq "a request beside the leaving client" "$(echo "$R" | json 'j.choices[0].message.content')" \
  "$(content_of "$WORK/alone_1.json")"
for _ in $(seq 1 200); do [ "$(metric qwen3vl_active_slots)" == "0" ] && break; sleep 0.05; done
expect_eq "the leaving client's slot is free" "$(metric qwen3vl_active_slots)" "0"
expect_eq "counted as cancelled" "$(metric qwen3vl_requests_cancelled_total)" "$((CANCELLED_BEFORE + 1))"
LEFT_TOKENS=$(($(metric qwen3vl_completion_tokens_total) - TOKENS_BEFORE - $(echo "$R" | json j.usage.completion_tokens)))
if [ "$LEFT_TOKENS" -lt 4000 ]; then pass "the abandoned answer stopped after $LEFT_TOKENS of 4000 tokens"
else fail "the abandoned answer ran to its end ($LEFT_TOKENS tokens)"; fi
finish

#!/usr/bin/env bash
# `qwen3vl serve` driven with curl on loopback, with the embedded tiny model:
# health, models, metrics, chat with an image (data URI), streaming, API key,
# a sweep of malformed requests after which the server still answers,
# a slow-loris client dropped by the read timeout, a client that leaves
# mid-stream, and SIGTERM with a stream in flight.
source "$(dirname "$0")/server_test_lib.sh"

KEY=test-key-123
start_server main --api-key "$KEY" --read-timeout 2 --shutdown-grace 1 --max-body 2000000 --max-image-bytes 1000000 \
  --max-image-pixels 4000000
AUTH=(-H "Authorization: Bearer $KEY")
POST=(-s -H "Content-Type: application/json" "${AUTH[@]}")

# --- health, models, metrics ---
expect_eq "/health without a key" "$(curl -s "$URL/health" | json j.status)" "ok"
expect_eq "/v1/models" "$(curl -s "${AUTH[@]}" "$URL/v1/models" | json 'j.data[0].id')" "qwen3vl-embedded-tiny"
expect_contains "/metrics" "$(curl -s "${AUTH[@]}" "$URL/metrics")" "# TYPE qwen3vl_requests_total counter"

# --- a chat completion with an image ---
IMG=$(base64 -w0 "$FIXTURES/tiny-qwen3vl/golden/img_400x300.png")
cat >"$WORK/image.json" <<JSON
{"model": "any", "max_tokens": 8, "temperature": 0,
 "messages": [{"role": "user", "content": [
   {"type": "image_url", "image_url": {"url": "data:image/png;base64,$IMG"}},
   {"type": "text", "text": "Describe this image."}]}]}
JSON
R=$(curl "${POST[@]}" --data-binary @"$WORK/image.json" "$URL/v1/chat/completions")
expect_eq "image chat: object" "$(echo "$R" | json j.object)" "chat.completion"
expect_eq "image chat: finish_reason" "$(echo "$R" | json 'j.choices[0].finish_reason')" "length"
expect_eq "image chat: completion tokens" "$(echo "$R" | json j.usage.completion_tokens)" "8"
# 400x300 -> 384x288 -> 12x9 merged tokens = 108 image tokens in the prompt.
PT=$(echo "$R" | json j.usage.prompt_tokens)
if [ "$PT" -gt 108 ] && [ "$PT" -lt 140 ]; then pass "image chat: prompt tokens $PT"; else fail "image chat: prompt tokens $PT"; fi
WHOLE=$(echo "$R" | json 'j.choices[0].message.content')

# --- the same request streamed: same text, SSE framing, usage chunk ---
sed 's/"max_tokens": 8,/"max_tokens": 8, "stream": true, "stream_options": {"include_usage": true},/' \
  "$WORK/image.json" >"$WORK/image_stream.json"
curl "${POST[@]}" -N --data-binary @"$WORK/image_stream.json" "$URL/v1/chat/completions" >"$WORK/stream.txt"
expect_eq "stream: ends with [DONE]" "$(tail -c 14 "$WORK/stream.txt" | tr '\n' '|')" "data: [DONE]||"
STREAMED=$(grep '^data: {' "$WORK/stream.txt" | sed 's/^data: //' |
  node -e 'let t = ""; for (const l of require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean)) { const c = JSON.parse(l); if (c.choices.length && c.choices[0].delta.content) t += c.choices[0].delta.content; } process.stdout.write(t);')
expect_eq "stream: same text as the whole answer" "$STREAMED" "$WHOLE"
expect_contains "stream: usage chunk" "$(grep '"usage"' "$WORK/stream.txt")" '"completion_tokens":8'
expect_contains "stream: finish chunk" "$(cat "$WORK/stream.txt")" '"finish_reason":"length"'

# --- authentication ---
NOKEY=$(curl -s -o /dev/null -w '%{http_code}' -H "Content-Type: application/json" -d '{}' "$URL/v1/chat/completions")
expect_eq "no key: 401" "$NOKEY" "401"
R=$(curl -s -H "Authorization: Bearer wrong-key-123" "$URL/v1/models")
expect_eq "wrong key: error type" "$(echo "$R" | json j.error.type)" "authentication_error"
expect_eq "wrong key on /metrics: 401" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/metrics")" "401"

# --- malformed requests: each gets a 4xx with an OpenAI error body ---
status_of() { curl -s -o "$WORK/err.json" -w '%{http_code}' "${POST[@]}" "$@" "$URL/v1/chat/completions"; }
check_refused() {  # NAME EXPECTED_STATUS curl-args...
  local name=$1 want=$2
  shift 2
  local got
  got=$(status_of "$@")
  if [ "$got" == "$want" ] && [ -n "$(json j.error.message <"$WORK/err.json" 2>/dev/null)" ]; then
    pass "refused: $name ($got: $(json j.error.message <"$WORK/err.json" | head -c 100))"
  else
    fail "refused: $name: status $got, body $(head -c 300 "$WORK/err.json")"
  fi
}
check_refused "truncated JSON" 400 -d '{"messages": [{"role": "user", "content": "hi"'
check_refused "not JSON" 400 -d 'hello'
check_refused "empty body" 400 --data-binary ''
check_refused "array body" 400 -d '[1, 2]'
check_refused "messages not an array" 400 -d '{"messages": "hi"}'
check_refused "temperature a string" 400 -d '{"messages": [{"role": "user", "content": "hi"}], "temperature": "hot"}'
check_refused "max_tokens negative" 400 -d '{"messages": [{"role": "user", "content": "hi"}], "max_tokens": -5}'
check_refused "unknown role" 400 -d '{"messages": [{"role": "wizard", "content": "hi"}]}'
check_refused "content a number" 400 -d '{"messages": [{"role": "user", "content": 42}]}'
check_refused "n = 3" 400 -d '{"messages": [{"role": "user", "content": "hi"}], "n": 3}'
check_refused "garbage base64" 400 -d '{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@notbase64@@@"}}]}]}'
check_refused "base64 of a non-image" 400 -d '{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,aGVsbG8gd29ybGQ="}}]}]}'
check_refused "remote image refused" 400 -d '{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://127.0.0.1:9/x.png"}}]}]}'
check_refused "local path refused" 400 -d '{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "/etc/passwd"}}]}]}'
node -e 'process.stdout.write("{\"messages\": " + "[".repeat(100000) + "]".repeat(100000) + "}")' >"$WORK/deep.json"
check_refused "deep nesting" 400 --data-binary @"$WORK/deep.json"
head -c 3000000 /dev/zero | tr '\0' 'a' >"$WORK/huge.json"
check_refused "body over --max-body" 413 --data-binary @"$WORK/huge.json"
node -e '
  const big = Buffer.alloc(1200000, 7).toString("base64");
  process.stdout.write(JSON.stringify({messages: [{role: "user", content: [{type: "image_url", image_url: {url: "data:image/png;base64," + big}}]}]}));' >"$WORK/bigimage.json"
check_refused "image over --max-image-bytes" 400 --data-binary @"$WORK/bigimage.json"
# A PNG header declaring 10000 x 10000 pixels (over --max-image-pixels).
node -e '
  const zlib = require("zlib");
  const crc = (b) => { let c, t = []; for (let n = 0; n < 256; n++) { c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; t[n] = c >>> 0; } let x = 0xffffffff; for (const v of b) x = t[(x ^ v) & 255] ^ (x >>> 8); return (x ^ 0xffffffff) >>> 0; };
  const chunk = (type, data) => { const len = Buffer.alloc(4); len.writeUInt32BE(data.length); const td = Buffer.concat([Buffer.from(type), data]); const c = Buffer.alloc(4); c.writeUInt32BE(crc(td)); return Buffer.concat([len, td, c]); };
  const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(10000, 0); ihdr.writeUInt32BE(10000, 4); ihdr[8] = 8; ihdr[9] = 2;
  const png = Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("IDAT", zlib.deflateSync(Buffer.alloc(10))), chunk("IEND", Buffer.alloc(0))]);
  process.stdout.write(JSON.stringify({max_tokens: 2, messages: [{role: "user", content: [{type: "image_url", image_url: {url: "data:image/png;base64," + png.toString("base64")}}]}]}));' >"$WORK/bomb.json"
check_refused "image over --max-image-pixels" 400 --data-binary @"$WORK/bomb.json"
expect_eq "unknown route: 404" "$(curl -s -o /dev/null -w '%{http_code}' "${AUTH[@]}" "$URL/v1/nothing-here")" "404"
expect_eq "unknown route: OpenAI error body" "$(curl -s "${AUTH[@]}" "$URL/v1/nothing-here" | json j.error.type)" \
  "not_found_error"
LONG=$(node -e 'process.stdout.write(JSON.stringify({messages: [{role: "user", content: "word ".repeat(6000)}]}))')
check_refused "prompt longer than the context" 400 -d "$LONG"

# Slow loris: headers promise a body that never comes; the read timeout (2 s)
# drops the connection.
START=$(date +%s)
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"mess' "$KEY" >&3
timeout 15 cat <&3 >/dev/null || true
exec 3<&-
ELAPSED=$(( $(date +%s) - START ))
if [ "$ELAPSED" -le 10 ]; then pass "slow loris dropped after ${ELAPSED}s"; else fail "slow loris held ${ELAPSED}s"; fi

# After all that the server is healthy and still answers normally.
expect_eq "healthy after the sweep" "$(curl -s "$URL/health" | json j.status)" "ok"
R=$(curl "${POST[@]}" -d '{"messages": [{"role": "user", "content": "Hello"}], "max_tokens": 4}' "$URL/v1/chat/completions")
expect_eq "normal request after the sweep" "$(echo "$R" | json j.usage.completion_tokens)" "4"
expect_contains "metrics count the refusals" "$(curl -s "${AUTH[@]}" "$URL/metrics")" 'qwen3vl_requests_total{status="4xx"}'

# A client that leaves mid-stream frees the server: the next request is served.
curl "${POST[@]}" -N -m 1 -d '{"messages": [{"role": "user", "content": "Count"}], "max_tokens": 100000, "stream": true}' \
  "$URL/v1/chat/completions" >/dev/null 2>&1 || true
START=$(date +%s%N)
R=$(curl "${POST[@]}" -m 20 -d '{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}' "$URL/v1/chat/completions")
expect_eq "served after a client left mid-stream" "$(echo "$R" | json j.usage.completion_tokens)" "2"
expect_contains "the abandoned stream counts as cancelled" "$(curl -s "${AUTH[@]}" "$URL/metrics")" "qwen3vl_requests_cancelled_total 1"

# SIGTERM with a stream in flight: the stream ends properly, the process exits 0.
curl "${POST[@]}" -N -d '{"messages": [{"role": "user", "content": "Go on"}], "max_tokens": 100000, "stream": true}' \
  "$URL/v1/chat/completions" >"$WORK/term_stream.txt" 2>/dev/null &
CURL_PID=$!
for _ in $(seq 1 100); do [ -s "$WORK/term_stream.txt" ] && break; sleep 0.05; done
kill -TERM "$SERVER_PID"
set +e
timeout 30 tail --pid="$SERVER_PID" -f /dev/null
wait "$SERVER_PID"
CODE=$?
set -e
wait "$CURL_PID" || true
expect_eq "SIGTERM: exit code" "$CODE" "0"
expect_eq "SIGTERM: the in-flight stream was closed properly" "$(tail -c 14 "$WORK/term_stream.txt" | tr '\n' '|')" \
  "data: [DONE]||"
expect_contains "SIGTERM: log" "$(cat "$WORK/main.log")" "stopped"
if curl -s -m 2 "$URL/health" >/dev/null 2>&1; then fail "still listening after SIGTERM"; else pass "no longer listening"; fi

# --- video (issue 10): the fixture clip as a video_url data: URI answers what
# `run --video` answers on the same clip (and the reference's golden text);
# local video paths are confined to --allow-local-images like images.
VIDEO_MODEL="$FIXTURES/tiny-qwen3vl-video"
CLIP="$VIDEO_MODEL/golden/video_a.avi"
QUESTION="What is moving in this video?"
mkdir -p "$WORK/clips"
cp "$CLIP" "$WORK/clips/clip.avi"
ln -s "$CLIP" "$WORK/clips/escape.avi"  # a symlink leading outside the allowed folder
start_server video -m "$VIDEO_MODEL" --allow-local-images "$WORK/clips"
VPOST=(-s -H "Content-Type: application/json")
# video_body URL [FILE]: a greedy 12-token question about the video at URL, or
# with FILE about FILE's bytes as a data: URI of type URL (the clip is too big
# for a command-line argument).
video_body() {
  node -e 'const [url, question, file] = process.argv.slice(1);
    const video = file ? url + ";base64," + require("fs").readFileSync(file).toString("base64") : url;
    process.stdout.write(JSON.stringify({max_tokens: 12, temperature: 0, messages: [{role: "user", content: [
      {type: "video_url", video_url: {url: video}}, {type: "text", text: question}]}]}))' "$1" "$QUESTION" "${2:-}"
}
video_body data:video/x-msvideo "$CLIP" >"$WORK/video_inline.json"
VR=$(curl "${VPOST[@]}" --data-binary @"$WORK/video_inline.json" "$URL/v1/chat/completions")
"$CLI" run -m "$VIDEO_MODEL" --video "$CLIP" -p "$QUESTION" -n 12 --temperature 0 --json -q >"$WORK/video_run.json"
expect_eq "video_url data: URI: same text as run --video" "$(echo "$VR" | json 'j.choices[0].message.content')" \
  "$(json j.text <"$WORK/video_run.json")"
expect_eq "video_url data: URI: same prompt length as run --video" "$(echo "$VR" | json j.usage.prompt_tokens)" \
  "$(json j.prompt_ids.length <"$WORK/video_run.json")"
expect_eq "video_url data: URI: same number of tokens as run --video" "$(echo "$VR" | json j.usage.completion_tokens)" \
  "$(json j.output_ids.length <"$WORK/video_run.json")"
expect_eq "run --video: the reference's ids" "$(json 'j.output_ids.join(",")' <"$WORK/video_run.json")" \
  "$(json 'j.generated_ids.join(",")' <"$VIDEO_MODEL/golden/vcase1_video.json")"
VL=$(curl "${VPOST[@]}" -d "$(video_body clip.avi)" "$URL/v1/chat/completions")
expect_eq "local video path under --allow-local-images: same answer" "$(echo "$VL" | json 'j.choices[0].message.content')" \
  "$(json j.text <"$WORK/video_run.json")"
for ref in escape.avi ../clips/../../etc/passwd "$CLIP" "file://$CLIP"; do
  code=$(curl "${VPOST[@]}" -o "$WORK/video_refused.json" -w '%{http_code}' -d "$(video_body "$ref")" \
    "$URL/v1/chat/completions")
  expect_eq "local video path $ref refused" "$code $(json j.error.type <"$WORK/video_refused.json")" \
    "400 invalid_request_error"
done
head -c 3000 "$CLIP" >"$WORK/truncated.avi"
code=$(curl "${VPOST[@]}" -o "$WORK/video_refused.json" -w '%{http_code}' \
  -d "$(video_body data:video/x-msvideo "$WORK/truncated.avi")" "$URL/v1/chat/completions")
expect_eq "truncated video data: URI refused" "$code" "400"
expect_eq "healthy after the video requests" "$(curl -s "$URL/health" | json j.status)" "ok"
# Without --allow-local-images (the main server above) no local video is read.
start_server video_closed -m "$VIDEO_MODEL"
code=$(curl "${VPOST[@]}" -o "$WORK/video_refused.json" -w '%{http_code}' -d "$(video_body "$CLIP")" \
  "$URL/v1/chat/completions")
expect_eq "local video path without --allow-local-images refused" "$code" "400"
expect_contains "it says why" "$(cat "$WORK/video_refused.json")" "allow-local-images"

finish

#!/usr/bin/env node
// Drives `qwen3vl serve` with concurrent streaming clients and prints the
// server's figures:
//   1. single-stream decode tok/s through the server, against `qwen3vl bench`
//      on the same model in the same run (target: within 5%);
//   2. aggregate decode tok/s of 4 concurrent streams against 1 (target >= 2.5x),
//      with --parallel 4 (batched) and, for comparison, --parallel 1 (FIFO);
//   3. time to first token of a second turn about the same 1000x750 image,
//      against the first turn's (target <= 15%).
// Usage (hold the bench lock; nothing else should run):
//   flock /tmp/qwen3vl-bench.lock node bench/server_bench.mjs --model /models/4b-q4.qwen3vl [--threads 2]
// Plain fetch only: no npm packages needed (tests/node/server_process.mjs starts the server).
import { execFileSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { fileURLToPath } from "node:url";
import { startServer as startQwen3vlServer } from "../tests/node/server_process.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const CLI = args.cli ?? path.join(here, "../build/bin/qwen3vl");
const MODEL = args.model;
const THREADS = args.threads ?? "2";
const DECODE_TOKENS = Number(args["decode-tokens"] ?? 64);
if (!MODEL) {
  console.error("usage: node bench/server_bench.mjs --model MODEL [--threads N] [--cli build/bin/qwen3vl]");
  process.exit(2);
}

// A 1000x750 PNG with structure (gradients and stripes), made here.
function testImagePng(width, height) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0;
    for (let x = 0; x < width; x++) {
      const o = row + 1 + x * 3;
      raw[o] = (x * 255) / width;
      raw[o + 1] = (y * 255) / height;
      raw[o + 2] = ((x >> 5) + (y >> 5)) & 1 ? 220 : 40;
    }
  }
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b) => {
    let c = 0xffffffff;
    for (const v of b) c = table[(c ^ v) & 255] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", ihdr),
    chunk("IDAT", zlib.deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const startServer = (parallel) =>
  startQwen3vlServer(["-m", MODEL, "-t", THREADS, "--parallel", String(parallel)], { cli: CLI, timeoutMs: 300000 });

// One streamed request; returns the arrival time (ms) of every content chunk and the usage.
async function stream(url, body) {
  const t0 = performance.now();
  const res = await fetch(url + "/v1/chat/completions", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
  });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  const times = [];
  let usage = null, text = "", buffer = "";
  const decoder = new TextDecoder();
  for await (const bytes of res.body) {
    buffer += decoder.decode(bytes, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      if (!event.startsWith("data: ") || event === "data: [DONE]") continue;
      const chunk = JSON.parse(event.slice(6));
      if (chunk.usage) usage = chunk.usage;
      const d = chunk.choices[0]?.delta;
      if (d && (d.content || d.reasoning_content)) {
        times.push(performance.now() - t0);
        text += d.content ?? d.reasoning_content;
      }
    }
  }
  return { times, usage, text, end: performance.now() - t0 };
}

const words = (n) => Array.from({ length: n }, (_, i) => `word${i % 50}`).join(" ");
const textRequest = (i, n = 40) => ({
  model: "m",
  messages: [{ role: "user", content: `Request ${i}: ${words(n)}` }],
  max_tokens: DECODE_TOKENS,
  temperature: 0,
});
// Decode rate of one stream: tokens after the first over the time they took.
const rate = (r) => (r.usage.completion_tokens - 1) / ((r.times.at(-1) - r.times[0]) / 1000);

const cpu = os.cpus()[0].model;
console.log(`CPU: ${cpu}; model ${MODEL}; ${THREADS} threads; ${DECODE_TOKENS} tokens per stream`);

// Four concurrent streams. `aggregate`: every token after each stream's
// first over the span in which any decoded (it includes the others' prompts
// being prefilled between the first streams' steps). `steady`: decode alone,
// the tokens that arrived while all four were decoding (after the last
// stream's first token, up to the first stream's end) over that span.
async function fourStreams(url) {
  const four = await Promise.all([1, 2, 3, 4].map((i) => stream(url, textRequest(i))));
  const first = Math.min(...four.map((r) => r.times[0]));
  const last = Math.max(...four.map((r) => r.times.at(-1)));
  const tokens = four.reduce((s, r) => s + r.usage.completion_tokens - 1, 0);
  const allIn = Math.max(...four.map((r) => r.times[0]));
  const firstOut = Math.min(...four.map((r) => r.times.at(-1)));
  const together = four.reduce((s, r) => s + r.times.filter((t) => t > allIn && t <= firstOut).length, 0);
  const steady = firstOut > allIn ? together / ((firstOut - allIn) / 1000) : NaN;
  return { four, aggregate: tokens / ((last - first) / 1000), steady };
}

let fifoAggregate = null;
{
  const fifo = await startServer(1);
  try {
    await stream(fifo.url, { ...textRequest(-1), max_tokens: 4 }); // warm up
    fifoAggregate = (await fourStreams(fifo.url)).aggregate;
    console.log(`server --parallel 1, 4 concurrent streams (FIFO): ${fifoAggregate.toFixed(2)} tok/s aggregate`);
  } finally {
    await fifo.stop();
  }
}

let singleResult = null;
const server = await startServer(4);
try {
  await stream(server.url, { ...textRequest(-1), max_tokens: 4 }); // warm up
  const single = await stream(server.url, textRequest(0, 250));  // about bench's 512-token prompt
  const singleRate = rate(single);
  console.log(`server, 1 stream: ${singleRate.toFixed(2)} tok/s decode after a ${single.usage.prompt_tokens}-token prompt`);
  singleResult = single;

  // One stream with a prompt as short as the four streams' below (same KV cache length).
  const shortSingle = await stream(server.url, textRequest(5));
  const shortRate = rate(shortSingle);
  console.log(`server, 1 stream: ${shortRate.toFixed(2)} tok/s decode after a ${shortSingle.usage.prompt_tokens}-token prompt`);

  const { four, aggregate, steady } = await fourStreams(server.url);
  console.log(
    `server --parallel 4, 4 concurrent streams: ${aggregate.toFixed(2)} tok/s aggregate (${(aggregate / shortRate).toFixed(2)}x one stream, ${(aggregate / fifoAggregate).toFixed(2)}x --parallel 1; per stream ${four.map((r) => rate(r).toFixed(2)).join(", ")})`,
  );
  console.log(
    `  while all four decode (their prompts in): ${steady.toFixed(2)} tok/s aggregate = ${(steady / shortRate).toFixed(2)}x one stream`,
  );

  const image = "data:image/png;base64," + testImagePng(1000, 750).toString("base64");
  const turn1 = [{ role: "user", content: [{ type: "image_url", image_url: { url: image } }, { type: "text", text: "Describe this image." }] }];
  const r1 = await stream(server.url, { model: "m", messages: turn1, max_tokens: 16, temperature: 0 });
  const turn2 = [...turn1, { role: "assistant", content: r1.text }, { role: "user", content: "Now say it in one word." }];
  const r2 = await stream(server.url, { model: "m", messages: turn2, max_tokens: 16, temperature: 0 });
  console.log(
    `1000x750 image, first turn: time to first token ${(r1.times[0] / 1000).toFixed(2)} s (${r1.usage.prompt_tokens} prompt tokens); ` +
      `second turn: ${(r2.times[0] / 1000).toFixed(2)} s (${r2.usage.prompt_tokens} prompt tokens, ${r2.usage.prompt_tokens_details.cached_tokens} cached) = ` +
      `${((100 * r2.times[0]) / r1.times[0]).toFixed(1)}% of the first`,
  );
} finally {
  await server.stop();
}

// qwen3vl bench on the same model, threads, prompt length and decode length,
// after the server has stopped (one model in memory at a time).
const bench = JSON.parse(
  execFileSync(
    CLI,
    ["bench", "-m", MODEL, "-t", THREADS, "--no-vision", "--json", "--decode-tokens", String(DECODE_TOKENS),
     "--prompt-tokens", String(singleResult.usage.prompt_tokens)],
    { encoding: "utf8", maxBuffer: 1 << 24, stdio: ["ignore", "pipe", "ignore"] },
  ),
);
const singleRate = rate(singleResult);
console.log(
  `qwen3vl bench decode: ${bench.decode_tps.toFixed(2)} tok/s; server single stream = ${((100 * singleRate) / bench.decode_tps).toFixed(1)}% of it`,
);

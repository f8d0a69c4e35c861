// `qwen3vl serve` used through npm's official `openai` SDK, on loopback.
// Real tiny model: images as data URIs, streaming, usage, errors, remote and
// local image policies, a Thinking template end to end, concurrency. Scripted
// answers (--scripted-output) drive tool calls and reasoning, which random
// weights never produce, through the real template/HTTP/stream path.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import OpenAI from "openai";
import { FIXTURES, modelWithTemplate, scriptFile, startServer, tempDir } from "./server_process.mjs";

if (!FIXTURES) throw new Error("set QWEN3VL_FIXTURES to tests/fixtures (and QWEN3VL_CLI to the qwen3vl binary)");
const PNG = fs.readFileSync(path.join(FIXTURES, "tiny-qwen3vl/golden/img_400x300.png"));
const DATA_URI = "data:image/png;base64," + PNG.toString("base64");
const THINKING_TEMPLATE = path.join(FIXTURES, "server/thinking_chat_template.jinja");

const imageMessage = (url, text = "Describe this image.") => [
  { role: "user", content: [{ type: "image_url", image_url: { url } }, { type: "text", text }] },
];

// Collects a stream the way a client renders it.
async function collect(stream) {
  const out = { content: "", reasoning: "", calls: [], usage: null, finish: null, order: [], argumentDeltas: 0 };
  for await (const chunk of stream) {
    if (chunk.usage) out.usage = chunk.usage;
    if (!chunk.choices.length) continue;
    const c = chunk.choices[0];
    if (c.finish_reason) out.finish = c.finish_reason;
    const d = c.delta;
    if (d.reasoning_content) {
      out.reasoning += d.reasoning_content;
      out.order.push("reasoning");
    }
    if (d.content) {
      out.content += d.content;
      out.order.push("content");
    }
    for (const t of d.tool_calls ?? []) {
      if (t.id) out.calls[t.index] = { id: t.id, name: t.function.name, arguments: "" };
      if (t.function?.arguments) {
        out.calls[t.index].arguments += t.function.arguments;
        out.argumentDeltas++;
      }
    }
  }
  return out;
}

describe("real model", () => {
  let server, client;
  before(async () => {
    server = await startServer(["--api-key", "sk-test", "--parallel", "2"]);
    client = new OpenAI({ baseURL: server.url + "/v1", apiKey: "sk-test", maxRetries: 0 });
  });
  after(async () => server.stop());

  test("chat with an image: whole answer, stream, usage", async () => {
    const params = { model: "m", messages: imageMessage(DATA_URI), max_tokens: 6, temperature: 0 };
    const r = await client.chat.completions.create(params);
    assert.equal(r.object, "chat.completion");
    assert.equal(r.choices[0].message.role, "assistant");
    assert.equal(typeof r.choices[0].message.content, "string");
    assert.equal(r.choices[0].finish_reason, "length");
    assert.equal(r.usage.completion_tokens, 6);
    assert.ok(r.usage.prompt_tokens > 108, "108 image tokens plus the text");
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + 6);
    assert.equal(typeof r.usage.prompt_tokens_details.cached_tokens, "number");

    const s = await collect(
      await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } }),
    );
    assert.equal(s.content, r.choices[0].message.content);
    assert.equal(s.finish, "length");
    assert.equal(s.usage.completion_tokens, 6);
    assert.equal(s.usage.prompt_tokens, r.usage.prompt_tokens);
  });

  test("models list and errors in OpenAI's shape", async () => {
    const models = await client.models.list();
    assert.equal(models.data[0].id, "qwen3vl-embedded-tiny");
    const bad = new OpenAI({ baseURL: server.url + "/v1", apiKey: "sk-wrong", maxRetries: 0 });
    await assert.rejects(bad.models.list(), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
    await assert.rejects(
      client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }], temperature: 9 }),
      (e) => e instanceof OpenAI.BadRequestError && e.param === "temperature" && /temperature/.test(e.message),
    );
    await assert.rejects(
      client.chat.completions.create({ model: "m", messages: imageMessage("data:image/png;base64,####") }),
      (e) => e instanceof OpenAI.BadRequestError && /base64/.test(e.message),
    );
  });

  test("stop strings and max_completion_tokens", async () => {
    const base = { model: "m", messages: [{ role: "user", content: "Say something" }], temperature: 0 };
    const full = await client.chat.completions.create({ ...base, max_completion_tokens: 10 });
    const text = full.choices[0].message.content;
    assert.equal(full.usage.completion_tokens, 10);
    // Stop at the first letter or digit after the start that appears there for the first time.
    let p = 1;
    while (p < text.length && !(/[A-Za-z0-9]/.test(text[p]) && text.indexOf(text[p]) === p)) p++;
    assert.ok(p < text.length, `no usable stop character in ${JSON.stringify(text)}`);
    const cut = await client.chat.completions.create({ ...base, max_completion_tokens: 10, stop: [text[p]] });
    assert.equal(cut.choices[0].message.content, text.slice(0, p));
    assert.equal(cut.choices[0].finish_reason, "stop");
  });

  test("caches across turns: the slot with the longest prefix, and image features by content", async () => {
    const metric = async (name) => {
      const text = await (await fetch(server.url + "/metrics", { headers: { Authorization: "Bearer sk-test" } })).text();
      return Number(text.match(new RegExp(`^${name} (\\S+)$`, "m"))[1]);
    };
    const ask = (messages) => client.chat.completions.create({ model: "m", messages, max_tokens: 4, temperature: 0 });
    const a1 = [...imageMessage(DATA_URI, "What is this?")];
    const b1 = [{ role: "user", content: "An unrelated question about something else entirely." }];
    const r1 = await ask(a1);
    await ask(b1); // another conversation takes the other slot (--parallel 2)
    const hitsBefore = await metric("qwen3vl_image_cache_hits_total");
    const a2 = [...a1, r1.choices[0].message, { role: "user", content: "And the colours?" }];
    const r2 = await ask(a2);
    // The first turn (image included) comes from the slot's KV cache.
    assert.ok(r2.usage.prompt_tokens_details.cached_tokens >= r1.usage.prompt_tokens - 1,
      `cached ${r2.usage.prompt_tokens_details.cached_tokens} of the first turn's ${r1.usage.prompt_tokens}`);
    // A new conversation about the same image (a system message changes the
    // prefix before it) takes the image's features from the encoding cache.
    const other = [{ role: "system", content: "Be brief." }, ...imageMessage(DATA_URI, "What is this?")];
    const r3 = await ask(other);
    assert.ok(r3.usage.prompt_tokens_details.cached_tokens < 10);
    assert.equal(await metric("qwen3vl_image_cache_hits_total"), hitsBefore + 1);
    assert.ok((await metric("qwen3vl_prefix_cache_hit_tokens_total")) >= r2.usage.prompt_tokens_details.cached_tokens);
  });

  test("concurrency: 8 clients x 5 requests, each answer identical to the request alone", async () => {
    const request = (c, r) => ({
      model: "m",
      messages: [{ role: "user", content: `Client ${c} asks question number ${r}.` }],
      max_tokens: 10,
      ...(r % 2 ? { temperature: 0.8, top_p: 0.95, seed: 100 * c + r } : { temperature: 0 }),
    });
    const alone = new Map();
    for (let c = 0; c < 8; c++)
      for (let r = 0; r < 5; r++) alone.set(`${c}/${r}`, await client.chat.completions.create(request(c, r)));
    const together = new Map();
    await Promise.all(
      [...Array(8).keys()].map(async (c) => {
        for (let r = 0; r < 5; r++) together.set(`${c}/${r}`, await client.chat.completions.create(request(c, r)));
      }),
    );
    assert.equal(together.size, 40);
    for (const [key, a] of alone) {
      const b = together.get(key);
      assert.equal(b.choices[0].message.content, a.choices[0].message.content, key);
      assert.equal(b.usage.completion_tokens, a.usage.completion_tokens, key);
    }
  });
});

describe("image sources", () => {
  let server, client, images, imagesUrl, dir;
  before(async () => {
    // A loopback image host: an image, a body that never ends, one that never comes, a 404.
    images = http.createServer((req, res) => {
      if (req.url === "/cat.png") return res.end(PNG);
      if (req.url === "/endless") {
        res.writeHead(200, { "Content-Type": "image/png" });
        const block = Buffer.alloc(65536, 1);
        const pump = () => {
          while (res.write(block)) {}
        };
        res.on("drain", pump);
        req.on("close", () => res.destroy());
        return pump();
      }
      if (req.url === "/slow") return; // never answers
      res.writeHead(404).end();
    });
    await new Promise((r) => images.listen(0, "127.0.0.1", r));
    imagesUrl = `http://127.0.0.1:${images.address().port}`;
    dir = tempDir();
    fs.mkdirSync(path.join(dir, "pics"));
    fs.writeFileSync(path.join(dir, "pics/cat.png"), PNG);
    fs.symlinkSync("/etc/hostname", path.join(dir, "pics/out.png"));
    server = await startServer([
      "--allow-remote-images", "--remote-timeout", "1500", "--max-image-bytes", "200000",
      "--allow-local-images", path.join(dir, "pics"),
    ]);
    client = new OpenAI({ baseURL: server.url + "/v1", apiKey: "none", maxRetries: 0 });
  });
  after(async () => {
    await server.stop();
    images.closeAllConnections();
    images.close();
  });

  const ask = (url) => client.chat.completions.create({ model: "m", messages: imageMessage(url), max_tokens: 2, temperature: 0 });

  test("remote, local and inline images give the same prompt", async () => {
    const inline = await ask(DATA_URI);
    const remote = await ask(`${imagesUrl}/cat.png`);
    const local = await ask("cat.png");
    assert.equal(remote.usage.prompt_tokens, inline.usage.prompt_tokens);
    assert.equal(local.usage.prompt_tokens, inline.usage.prompt_tokens);
    assert.equal(remote.choices[0].message.content, inline.choices[0].message.content);
    assert.equal(local.choices[0].message.content, inline.choices[0].message.content);
  });

  test("downloads are bounded in size and time; paths are confined", async () => {
    const refused = (url, pattern) =>
      assert.rejects(ask(url), (e) => e instanceof OpenAI.BadRequestError && pattern.test(e.message));
    await refused(`${imagesUrl}/endless`, /larger than the limit/);
    const t0 = Date.now();
    await refused(`${imagesUrl}/slow`, /could not download/);
    assert.ok(Date.now() - t0 < 10000);
    await refused(`${imagesUrl}/missing.png`, /HTTP 404/);
    await refused("out.png", /outside the folder/);
    await refused("../pics/../../etc/passwd", /not found|outside/);
  });
});

describe("scripted answers: tool calls", () => {
  const call = 'I\'ll check the weather.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}\n</tool_call>';
  let server, client;
  before(async () => {
    server = await startServer(["--scripted-output", scriptFile([call, { echo_prompt: true }, call])]);
    client = new OpenAI({ baseURL: server.url + "/v1", apiKey: "none", maxRetries: 0 });
  });
  after(async () => server.stop());

  const tools = [
    {
      type: "function",
      function: {
        name: "get_weather",
        description: "Weather forecast for a city",
        parameters: { type: "object", properties: { city: { type: "string" }, days: { type: "integer" } } },
      },
    },
  ];
  const question = [{ role: "user", content: "Weather in Paris?" }];

  test("a tool call round trip", async () => {
    const r = await client.chat.completions.create({ model: "m", messages: question, tools });
    const m = r.choices[0].message;
    assert.equal(r.choices[0].finish_reason, "tool_calls");
    assert.equal(m.content, "I'll check the weather.");
    assert.equal(m.tool_calls.length, 1);
    assert.equal(m.tool_calls[0].type, "function");
    assert.match(m.tool_calls[0].id, /^call_/);
    assert.equal(m.tool_calls[0].function.name, "get_weather");
    assert.deepEqual(JSON.parse(m.tool_calls[0].function.arguments), { city: "Paris", days: 2 });

    // The client runs the tool and sends the result back; the model's own
    // template renders the call and the result (echoed here).
    const followUp = [...question, m, { role: "tool", tool_call_id: m.tool_calls[0].id, content: "22 degrees, sunny" }];
    const echo = await client.chat.completions.create({ model: "m", messages: followUp, tools });
    const prompt = JSON.parse(echo.choices[0].message.content);
    assert.ok(prompt.startsWith("<|im_start|>system\n# Tools\n"), prompt);
    assert.ok(prompt.includes('"name": "get_weather", "description": "Weather forecast for a city"'), prompt);
    assert.ok(
      prompt.includes(
        'I\'ll check the weather.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}\n</tool_call><|im_end|>',
      ),
      prompt,
    );
    assert.ok(prompt.includes("<|im_start|>user\n<tool_response>\n22 degrees, sunny\n</tool_response><|im_end|>\n"), prompt);
    assert.ok(prompt.endsWith("<|im_start|>assistant\n"), prompt);
  });

  test("a tool call streamed as deltas", async () => {
    const s = await collect(
      await client.chat.completions.create({ model: "m", messages: question, tools, stream: true }),
    );
    assert.equal(s.finish, "tool_calls");
    assert.equal(s.content, "I'll check the weather.");
    assert.equal(s.calls.length, 1);
    assert.equal(s.calls[0].name, "get_weather");
    assert.deepEqual(JSON.parse(s.calls[0].arguments), { city: "Paris", days: 2 });
    assert.ok(s.argumentDeltas > 1, "arguments arrive in pieces as they are generated");
  });
});

describe("scripted answers: reasoning with a Thinking template", () => {
  const answer = "The user greets me.\nI should greet back.\n</think>\n\nHello there!";
  let server, client;
  before(async () => {
    const model = modelWithTemplate(THINKING_TEMPLATE);
    server = await startServer(["-m", model, "--scripted-output", scriptFile([answer, answer, { echo_prompt: true }])]);
    client = new OpenAI({ baseURL: server.url + "/v1", apiKey: "none", maxRetries: 0 });
  });
  after(async () => server.stop());

  const question = [{ role: "user", content: "Hi!" }];

  test("reasoning_content apart from content, whole and streamed", async () => {
    const r = await client.chat.completions.create({ model: "m", messages: question });
    const m = r.choices[0].message;
    assert.equal(m.reasoning_content, "The user greets me.\nI should greet back.");
    assert.equal(m.content, "Hello there!");
    assert.equal(r.choices[0].finish_reason, "stop");

    const s = await collect(await client.chat.completions.create({ model: "m", messages: question, stream: true }));
    assert.equal(s.reasoning, m.reasoning_content);
    assert.equal(s.content, m.content);
    assert.ok(s.order.indexOf("content") > s.order.lastIndexOf("reasoning"), "reasoning streams first");
    assert.ok(s.order.filter((x) => x === "reasoning").length > 1, "reasoning arrives in pieces");
  });

  test("history with reasoning and chat_template_kwargs reach the template", async () => {
    const history = [
      ...question,
      { role: "assistant", content: "Hello there!", reasoning_content: "The user greets me." },
      { role: "user", content: "Bye!" },
    ];
    const r = await client.chat.completions.create({
      model: "m",
      messages: history,
      chat_template_kwargs: { enable_thinking: false },
    });
    const prompt = JSON.parse(r.choices[0].message.content);
    assert.ok(prompt.includes("<|im_start|>assistant\n<think>\nThe user greets me.\n</think>\n\nHello there!<|im_end|>"), prompt);
    assert.ok(prompt.endsWith("<|im_start|>user\nBye!<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"), prompt);
    assert.equal(r.choices[0].message.reasoning_content, undefined);
  });
});

describe("Thinking template with the real model", () => {
  let server, client;
  before(async () => {
    server = await startServer(["-m", modelWithTemplate(THINKING_TEMPLATE)]);
    client = new OpenAI({ baseURL: server.url + "/v1", apiKey: "none", maxRetries: 0 });
  });
  after(async () => server.stop());

  test("generation inside the opened <think> is reasoning; enable_thinking=false gives content", async () => {
    const base = { model: "m", messages: [{ role: "user", content: "Hi!" }], max_tokens: 8, temperature: 0 };
    const thinking = await client.chat.completions.create(base);
    assert.ok(thinking.choices[0].message.reasoning_content.length > 0);
    const plain = await client.chat.completions.create({ ...base, chat_template_kwargs: { enable_thinking: false } });
    assert.equal(plain.choices[0].message.reasoning_content, undefined);
    assert.ok(plain.choices[0].message.content.length > 0);
    assert.ok(plain.usage.prompt_tokens > thinking.usage.prompt_tokens, "the closed think block is in the prompt");
  });
});

#!/usr/bin/env node
// Runs a qwen3vl genai-layout ONNX export end to end with ONNX Runtime for
// Node.js, as an application would: vision -> embedding -> decoder with a KV
// cache, greedy. A --text-only export (genai_config type "qwen3": one
// model.onnx taking input_ids and 1-D positions) runs as a plain causal LM.
//
//   cd examples/onnx && ONNXRUNTIME_NODE_INSTALL=skip npm install
//   qwen3vl export-onnx -m ~/models/Qwen3-VL-4B-Instruct -o qwen3vl-onnx --precision int4
//   node examples/onnx/run.mjs qwen3vl-onnx --messages chat.json -n 64 [--json]
//
// FILE is the messages JSON `qwen3vl run --messages` takes. The prompt is
// prepared (chat template, tokens, image preprocessing, 3-D positions) by
// `qwen3vl prepare-inputs`, so it is exactly what our own engine feeds its
// model; found with --qwen3vl PATH, $QWEN3VL, this repository's build/bin, or
// PATH. --json prints {"output_ids": [...], "text": ...}.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { readSafetensors } from './safetensors.mjs';

const here = dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const opts = { n: 64, json: false, threads: 2 };
  const rest = [];
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a === '--messages') opts.messages = argv[++i];
    else if (a === '-n') opts.n = Number(argv[++i]);
    else if (a === '--json') opts.json = true;
    else if (a === '--qwen3vl') opts.qwen3vl = argv[++i];
    else if (a === '--threads') opts.threads = Number(argv[++i]);
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else rest.push(a);
  }
  if (rest.length !== 1 || !opts.messages)
    throw new Error('usage: node run.mjs EXPORT_DIR --messages FILE [-n N] [--json] [--qwen3vl PATH] [--threads N]');
  opts.exportDir = rest[0];
  return opts;
}

function findQwen3vl(explicit) {
  if (explicit) return explicit;
  if (process.env.QWEN3VL) return process.env.QWEN3VL;
  const built = join(here, '..', '..', 'build', 'bin', 'qwen3vl');
  return existsSync(built) ? built : 'qwen3vl';
}

// The prompt's inputs, prepared by the CLI exactly as `qwen3vl run` does.
function prepareInputs(qwen3vl, exportDir, messages) {
  const dir = mkdtempSync(join(tmpdir(), 'qwen3vl-inputs-'));
  try {
    const out = join(dir, 'inputs.safetensors');
    execFileSync(qwen3vl, ['prepare-inputs', '-m', exportDir, '--messages', messages, '-o', out], { stdio: ['ignore', 'ignore', 'inherit'] });
    return readSafetensors(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Byte-level BPE detokenizer from tokenizer.json: token strings map bytes to
// printable characters (GPT-2's table); special tokens are skipped.
function makeDetokenizer(tokenizerJson) {
  const tok = JSON.parse(readFileSync(tokenizerJson, 'utf8'));
  const pieces = new Map(Object.entries(tok.model.vocab).map(([s, id]) => [id, s]));
  const special = new Set();
  for (const t of tok.added_tokens ?? []) {
    pieces.set(t.id, t.content);
    if (t.special) special.add(t.id);
  }
  const byteOf = new Map();
  let extra = 0;
  for (let b = 0; b < 256; ++b) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    byteOf.set(String.fromCodePoint(printable ? b : 256 + extra++), b);
  }
  return (ids) => {
    const bytes = [];
    for (const id of ids) {
      if (special.has(id)) continue;
      for (const ch of pieces.get(id) ?? '') {
        const b = byteOf.get(ch);
        if (b === undefined) bytes.push(...Buffer.from(ch, 'utf8'));
        else bytes.push(b);
      }
    }
    return Buffer.from(bytes).toString('utf8');
  };
}

function argmaxLastRow(logits) {
  const [, seq, vocab] = logits.dims;
  const row = logits.data.subarray((seq - 1) * vocab, seq * vocab);
  let best = 0;
  for (let i = 1; i < vocab; ++i) if (row[i] > row[best]) best = i;
  return best;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const config = JSON.parse(readFileSync(join(opts.exportDir, 'genai_config.json'), 'utf8')).model;
  const dec = config.decoder;
  const textOnly = !config.vision;
  const levels = textOnly ? 0 : config.vision.num_deepstack_levels;
  const hidden = dec.hidden_size;
  const eos = new Set(config.eos_token_id);
  const sessionOptions = { intraOpNumThreads: opts.threads, interOpNumThreads: 1 };
  const open = (file) => ort.InferenceSession.create(join(opts.exportDir, file), sessionOptions);
  const [vision, embedding, decoder] = await Promise.all([
    textOnly ? null : open(config.vision.filename), textOnly ? null : open(config.embedding.filename), open(dec.filename),
  ]);

  const inputs = prepareInputs(findQwen3vl(opts.qwen3vl), opts.exportDir, opts.messages);
  const ids = inputs.input_ids.data;
  const seq = ids.length;

  // 1. Vision: every image in one call (features stay empty for text only).
  let features = { image_features: new ort.Tensor('float32', new Float32Array(0), [0, hidden]) };
  for (let j = 0; j < levels; ++j) features[`deepstack_features_${j}`] = features.image_features;
  if (inputs.image_grid_thw.shape[0] > 0) {
    if (textOnly) throw new Error('this is a text-only export: the messages must not hold images');
    const pv = inputs.pixel_values, grid = inputs.image_grid_thw;
    features = await vision.run({
      pixel_values: new ort.Tensor('float32', pv.data, pv.shape),
      image_grid_thw: new ort.Tensor('int64', grid.data, grid.shape),
    });
  }
  const noFeatures = { image_features: new ort.Tensor('float32', new Float32Array(0), [0, hidden]) };
  for (let j = 0; j < levels; ++j) noFeatures[`deepstack_features_${j}`] = noFeatures.image_features;

  // 2. Embedding + decoder step: embeds the tokens (scattering any features)
  // and runs them through the decoder on top of the cache.
  let past = {};
  for (let i = 0; i < dec.num_hidden_layers; ++i)
    for (const kv of ['key', 'value'])
      past[`past_key_values.${i}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, dec.num_key_value_heads, 0, dec.head_size]);
  let cached = 0;
  async function step(tokenIds, positions, feats) {
    const n = tokenIds.length;
    const feeds = {
      attention_mask: new ort.Tensor('int64', new BigInt64Array(cached + n).fill(1n), [1, cached + n]),
      ...past,
    };
    if (textOnly) {
      // Text positions are equal on the three axes: the first row is the 1-D position.
      feeds.input_ids = new ort.Tensor('int64', tokenIds, [1, n]);
      feeds.position_ids = new ort.Tensor('int64', positions.subarray(0, n), [1, n]);
    } else {
      const emb = await embedding.run({ input_ids: new ort.Tensor('int64', tokenIds, [1, n]), ...feats });
      feeds.inputs_embeds = emb.inputs_embeds;
      feeds.position_ids = new ort.Tensor('int64', positions, [3, 1, n]);
      for (let j = 0; j < levels; ++j) feeds[`deepstack_embeds_${j}`] = emb[`deepstack_embeds_${j}`];
    }
    const out = await decoder.run(feeds);
    past = {};
    for (let i = 0; i < dec.num_hidden_layers; ++i)
      for (const kv of ['key', 'value']) past[`past_key_values.${i}.${kv}`] = out[`present.${i}.${kv}`];
    cached += n;
    return argmaxLastRow(out.logits);
  }

  // 3. Prefill, then greedy decode: position = cache position + rope delta on all three axes.
  const delta = inputs.rope_deltas.data[0];
  const output = [];
  let token = await step(ids, inputs.position_ids.data, features);
  while (output.length < opts.n && !eos.has(token)) {
    output.push(token);
    if (output.length === opts.n) break;
    const pos = BigInt(cached) + delta;
    token = await step(BigInt64Array.of(BigInt(token)), BigInt64Array.of(pos, pos, pos), noFeatures);
  }

  const text = makeDetokenizer(join(opts.exportDir, 'tokenizer.json'))(output);
  if (opts.json) console.log(JSON.stringify({ output_ids: output, text }));
  else console.log(text);
}

main().catch((e) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});

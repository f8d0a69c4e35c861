// Prefill logits of a genai-layout export in ONNX Runtime against our engine's
// (a `qwen3vl dump` of the same messages, e.g. with --quant q4), on the
// prompt's last row: max |diff| <= BOUND. With EXACT_DUMP (our float32 path),
// BOUND is relative: max |export - DUMP| <= BOUND * max |DUMP - EXACT_DUMP|,
// i.e. the export is that much closer to our quantized path than our
// quantized path is to the exact one.
//   node logits_test.mjs EXPORT_DIR DUMP.safetensors BOUND LABEL [EXACT_DUMP.safetensors]
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors } from '../../examples/onnx/safetensors.mjs';

const require = createRequire(new URL('../../examples/onnx/package.json', import.meta.url));
const ort = require('onnxruntime-node');
const [exportDir, dumpPath, boundArg, label, exactPath] = process.argv.slice(2);
let bound = Number(boundArg);
const config = JSON.parse(readFileSync(join(exportDir, 'genai_config.json'), 'utf8')).model;
const dec = config.decoder, levels = config.vision.num_deepstack_levels, hidden = dec.hidden_size;
const opts = { intraOpNumThreads: 2 };
const open = (f) => ort.InferenceSession.create(join(exportDir, f), opts);
const t = readSafetensors(dumpPath);
const ids = t.input_ids.data, seq = ids.length;

let feats = { image_features: new ort.Tensor('float32', new Float32Array(0), [0, hidden]) };
for (let j = 0; j < levels; ++j) feats[`deepstack_features_${j}`] = feats.image_features;
if (t.image_grid_thw) {
  feats = await (await open('vision.onnx')).run({
    pixel_values: new ort.Tensor('float32', t.pixel_values.data, t.pixel_values.shape),
    image_grid_thw: new ort.Tensor('int64', t.image_grid_thw.data, t.image_grid_thw.shape),
  });
}
const emb = await (await open('embedding.onnx')).run({ input_ids: new ort.Tensor('int64', ids, [1, seq]), ...feats });
const feeds = {
  inputs_embeds: emb.inputs_embeds,
  attention_mask: new ort.Tensor('int64', new BigInt64Array(seq).fill(1n), [1, seq]),
  position_ids: new ort.Tensor('int64', t.position_ids.data, [3, 1, seq]),
};
for (let j = 0; j < levels; ++j) feeds[`deepstack_embeds_${j}`] = emb[`deepstack_embeds_${j}`];
for (let i = 0; i < dec.num_hidden_layers; ++i)
  for (const kv of ['key', 'value'])
    feeds[`past_key_values.${i}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, dec.num_key_value_heads, 0, dec.head_size]);
const out = await (await open('model.onnx')).run(feeds);
const V = out.logits.dims[2];
const last = out.logits.data.subarray((seq - 1) * V, seq * V);
const ref = t.logits_last.data;
let scale = '';
if (exactPath) {
  const exact = readSafetensors(exactPath).logits_last.data;
  let spread = 0;
  for (let i = 0; i < V; ++i) spread = Math.max(spread, Math.abs(ref[i] - exact[i]));
  scale = ` = ${bound} x ${spread.toFixed(4)} (our quantized vs exact)`;
  bound *= spread;
}
let diff = 0, a = 0, b = 0;
for (let i = 0; i < V; ++i) {
  diff = Math.max(diff, Math.abs(last[i] - ref[i]));
  if (last[i] > last[a]) a = i;
  if (ref[i] > ref[b]) b = i;
}
const ok = diff <= bound;
console.log(`${ok ? 'ok  ' : 'FAIL'} ${label}: last-row logits max |diff| ${diff.toFixed(4)} (bound ${bound.toFixed(4)}${scale}), top-1 ${a} vs ${b}`);
console.log(`${ok ? 1 : 0} passed, ${ok ? 0 : 1} failed`);
process.exit(ok ? 0 : 1);

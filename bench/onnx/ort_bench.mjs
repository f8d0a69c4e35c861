// Times a genai-layout export in ONNX Runtime for Node.js (CPU, 2 threads),
// the workloads `qwen3vl bench` measures: vision encoder on a 1000x750 image
// (grid 46x62 after smart_resize: 2852 patches, 713 tokens), prefill of 512
// text tokens, decode of 128 tokens after it. Prints one JSON object.
//   node ort_bench.mjs EXPORT_DIR
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const require = createRequire(new URL('../../examples/onnx/package.json', import.meta.url));
const ort = require('onnxruntime-node');
const dir = process.argv[2];
const config = JSON.parse(readFileSync(join(dir, 'genai_config.json'), 'utf8')).model;
const dec = config.decoder, levels = config.vision.num_deepstack_levels, hidden = dec.hidden_size;
const opts = { intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
const now = () => Number(process.hrtime.bigint()) / 1e9;
const result = {};

let t0 = now();
const vision = await ort.InferenceSession.create(join(dir, 'vision.onnx'), opts);
const embedding = await ort.InferenceSession.create(join(dir, 'embedding.onnx'), opts);
const decoder = await ort.InferenceSession.create(join(dir, 'model.onnx'), opts);
result.load_s = now() - t0;

// Vision: random pixels of a 1000x750 image's grid.
const gh = 46, gw = 62, patches = gh * gw;
const pixels = new Float32Array(patches * 1536);
for (let i = 0; i < pixels.length; ++i) pixels[i] = Math.sin(i * 0.37) * 0.9;
const visionFeeds = {
  pixel_values: new ort.Tensor('float32', pixels, [patches, 1536]),
  image_grid_thw: new ort.Tensor('int64', BigInt64Array.of(1n, BigInt(gh), BigInt(gw)), [1, 3]),
};
t0 = now();
await vision.run(visionFeeds);
result.vision_1000x750_s = now() - t0;

// Prefill 512 text tokens, then 128 decode steps on the cache.
const noFeatures = { image_features: new ort.Tensor('float32', new Float32Array(0), [0, hidden]) };
for (let j = 0; j < levels; ++j) noFeatures[`deepstack_features_${j}`] = noFeatures.image_features;
let past = {};
for (let i = 0; i < dec.num_hidden_layers; ++i)
  for (const kv of ['key', 'value'])
    past[`past_key_values.${i}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, dec.num_key_value_heads, 0, dec.head_size]);
let cached = 0;
async function step(ids) {
  const n = ids.length;
  const emb = await embedding.run({ input_ids: new ort.Tensor('int64', ids, [1, n]), ...noFeatures });
  const positions = new BigInt64Array(3 * n);
  for (let a = 0; a < 3; ++a) for (let i = 0; i < n; ++i) positions[a * n + i] = BigInt(cached + i);
  const feeds = {
    inputs_embeds: emb.inputs_embeds,
    attention_mask: new ort.Tensor('int64', new BigInt64Array(cached + n).fill(1n), [1, cached + n]),
    position_ids: new ort.Tensor('int64', positions, [3, 1, n]),
    ...past,
  };
  for (let j = 0; j < levels; ++j) feeds[`deepstack_embeds_${j}`] = emb[`deepstack_embeds_${j}`];
  const out = await decoder.run(feeds);
  past = {};
  for (let i = 0; i < dec.num_hidden_layers; ++i)
    for (const kv of ['key', 'value']) past[`past_key_values.${i}.${kv}`] = out[`present.${i}.${kv}`];
  cached += n;
}
const prompt = BigInt64Array.from({ length: 512 }, (_, i) => BigInt(1000 + ((i * 7919) % 50000)));
t0 = now();
await step(prompt);
result.prefill_512_tok_s = 512 / (now() - t0);
t0 = now();
for (let i = 0; i < 128; ++i) await step(BigInt64Array.of(BigInt(2000 + i)));
result.decode_128_tok_s = 128 / (now() - t0);
result.peak_rss_gb = process.resourceUsage().maxRSS / 1e6;
console.log(JSON.stringify(result));

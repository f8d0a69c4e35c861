// ONNX Runtime (onnxruntime-node) runs the exported vision graph on batches of
// images whose grids the export never saw, and must reproduce our engine's
// image features and DeepStack features (dumped by `qwen3vl dump`) within 1e-4.
//   node vision_test.mjs EXPORT_DIR DUMP.safetensors...
import { createRequire } from 'node:module';
import { readSafetensors } from '../../examples/onnx/safetensors.mjs';

const require = createRequire(new URL('../../examples/onnx/package.json', import.meta.url));
const ort = require('onnxruntime-node');

const [exportDir, ...dumps] = process.argv.slice(2);
const TOLERANCE = 1e-4;
let passed = 0, failed = 0;

function maxAbsDiff(a, b) {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; ++i) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const session = await ort.InferenceSession.create(`${exportDir}/vision.onnx`, { intraOpNumThreads: 2 });
for (const dump of dumps) {
  const t = readSafetensors(dump);
  const grid = t.image_grid_thw;
  const feeds = {
    pixel_values: new ort.Tensor('float32', t.pixel_values.data, t.pixel_values.shape),
    image_grid_thw: new ort.Tensor('int64', grid.data, grid.shape),
  };
  const out = await session.run(feeds);
  const grids = Array.from({ length: grid.shape[0] }, (_, i) => Array.from(grid.data.subarray(3 * i, 3 * i + 3)).join('x'));
  const checks = [['image_features', 'image_embeds']];
  for (let j = 0; `deepstack_${j}` in t; ++j) checks.push([`deepstack_features_${j}`, `deepstack_${j}`]);
  for (const [ortName, ourName] of checks) {
    const d = maxAbsDiff(out[ortName].data, t[ourName].data);
    const ok = d <= TOLERANCE && out[ortName].dims.join() === t[ourName].shape.join();
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${grid.shape[0]} image(s) [${grids.join(', ')}] ${ortName}: max |diff| ${d.toExponential(2)}`);
    ok ? ++passed : ++failed;
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

// examples/onnx/run.mjs (ONNX Runtime for Node.js, greedy with a KV cache)
// must reproduce the reference's golden greedy ids of the fixture's cases.
//   node golden_ids_test.mjs EXPORT_DIR GOLDEN_DIR QWEN3VL CASE...
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [exportDir, goldenDir, qwen3vl, ...cases] = process.argv.slice(2);
const runMjs = fileURLToPath(new URL('../../examples/onnx/run.mjs', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'qwen3vl-golden-'));
let passed = 0, failed = 0;
try {
  for (const name of cases) {
    const golden = JSON.parse(readFileSync(join(goldenDir, `${name}.json`), 'utf8'));
    // Image paths in the messages are relative to the golden directory.
    const messages = join(goldenDir, `${name}.messages.json`);
    let file = messages;
    try { readFileSync(messages); } catch {
      file = join(work, `${name}.messages.json`);
      writeFileSync(file, JSON.stringify(golden.messages));
    }
    const n = golden.generated_ids.length;
    const out = JSON.parse(execFileSync('node', [runMjs, exportDir, '--messages', file, '-n', String(n), '--json', '--qwen3vl', qwen3vl], { encoding: 'utf8' }));
    const ok = JSON.stringify(out.output_ids) === JSON.stringify(golden.generated_ids);
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${JSON.stringify(out.output_ids)}${ok ? '' : ` != golden ${JSON.stringify(golden.generated_ids)}`}`);
    ok ? ++passed : ++failed;
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

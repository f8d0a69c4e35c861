// Reads a safetensors file (an 8-byte little-endian header length, a JSON
// header, then raw little-endian data) into typed arrays: { name: { dtype,
// shape, data } } with F32 -> Float32Array, I64 -> BigInt64Array,
// U8 -> Uint8Array.
import { readFileSync } from 'node:fs';

const ARRAYS = { F32: Float32Array, I64: BigInt64Array, I32: Int32Array, U8: Uint8Array };

export function readSafetensors(path) {
  const buf = readFileSync(path);
  const headerLen = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8'));
  const base = 8 + headerLen;
  const out = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const Ctor = ARRAYS[info.dtype];
    if (!Ctor) continue;  // dtypes we never read (bf16 weights, ...)
    const [begin, end] = info.data_offsets;
    // Copy so the typed array is aligned whatever the offset.
    const bytes = Uint8Array.prototype.slice.call(buf, base + begin, base + end);
    out[name] = { dtype: info.dtype, shape: info.shape, data: new Ctor(bytes.buffer, 0, (end - begin) / Ctor.BYTES_PER_ELEMENT) };
  }
  return out;
}

#include "qwen3vl/io/safetensors.h"

#include <cstring>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/json.h"
#include "qwen3vl/io/safetensors_stream_writer.h"

namespace qwen3vl {

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string TensorView::shape_string() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::vector<float> TensorView::to_f32() const {
  std::vector<float> out(static_cast<size_t>(numel()));
  convert_to_f32(dtype, data, out.data(), out.size());
  return out;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : file_(path) {
  const uint8_t* base = file_.data();
  const size_t size = file_.size();
  if (size < 8) throw Error(path + ": not a safetensors file (shorter than its 8-byte header length)");
  uint64_t header_len = 0;
  std::memcpy(&header_len, base, 8);
  if (header_len > size - 8)
    throw Error(path + ": truncated safetensors file (header says " + std::to_string(header_len) +
                " bytes of JSON, file has " + std::to_string(size - 8) + ")");
  if (header_len > (100u << 20)) throw Error(path + ": safetensors header is implausibly large");
  const std::string header(reinterpret_cast<const char*>(base + 8), header_len);
  Json j;
  try {
    j = parse_json(header, path + ": safetensors header");
  } catch (const Error& e) {
    throw Error(path + ": corrupt safetensors header (" + e.what() + ")");
  }
  if (!j.is_object()) throw Error(path + ": corrupt safetensors header (not a JSON object)");
  const size_t data_start = 8 + header_len;
  const size_t data_size = size - data_start;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") {
      if (it->is_object())
        for (auto m = it->begin(); m != it->end(); ++m)
          if (m->is_string()) metadata_[m.key()] = m->get<std::string>();
      continue;
    }
    const Json& e = *it;
    const std::string where = path + ": tensor '" + name + "'";
    if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets"))
      throw Error(where + " has an incomplete header entry");
    TensorView v;
    v.name = name;
    v.file = path;
    if (!e["dtype"].is_string() || !parse_dtype(e["dtype"].get<std::string>(), &v.dtype))
      throw Error(where + " has unsupported dtype " + e["dtype"].dump());
    if (!e["shape"].is_array()) throw Error(where + " has a malformed shape");
    uint64_t numel = 1;
    for (const auto& d : e["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0) throw Error(where + " has a malformed shape");
      const uint64_t dim = d.get<uint64_t>();
      if (dim != 0 && numel > (uint64_t(1) << 50) / dim) throw Error(where + " has an absurd shape");
      numel *= dim;
      v.shape.push_back(static_cast<int64_t>(dim));
    }
    const Json& off = e["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw Error(where + " has malformed data_offsets");
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (begin > end) throw Error(where + " has data_offsets that run backwards");
    if (end > data_size)
      throw Error(where + " lies past the end of the file (offset " + std::to_string(end) + " > " +
                  std::to_string(data_size) + " data bytes): the file is truncated or corrupt");
    const uint64_t expect = numel * dtype_size(v.dtype);
    if (end - begin != expect)
      throw Error(where + " has " + std::to_string(end - begin) + " bytes but shape " + v.shape_string() +
                  " of " + dtype_name(v.dtype) + " needs " + std::to_string(expect));
    v.data = base + data_start + begin;
    v.nbytes = static_cast<size_t>(expect);
    tensors_.emplace(name, std::move(v));
  }
}

const TensorView& SafetensorsFile::get(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw Error(path() + ": missing tensor '" + name + "'");
  return it->second;
}

void SafetensorsWriter::add(const std::string& name, DType dtype, std::vector<int64_t> shape,
                            const void* data, size_t nbytes) {
  Entry e{name, dtype, std::move(shape), {}};
  e.bytes.assign(static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + nbytes);
  entries_.push_back(std::move(e));
}

void SafetensorsWriter::add_f32(const std::string& name, std::vector<int64_t> shape,
                                const std::vector<float>& v) {
  add(name, DType::F32, std::move(shape), v.data(), v.size() * 4);
}

void SafetensorsWriter::add_i64(const std::string& name, std::vector<int64_t> shape,
                                const std::vector<int64_t>& v) {
  add(name, DType::I64, std::move(shape), v.data(), v.size() * 8);
}

void SafetensorsWriter::write(const std::string& path) const {
  std::vector<SafetensorsStreamWriter::Entry> declared;
  for (const auto& e : entries_) declared.push_back({e.name, e.dtype, e.shape, e.bytes.size()});
  SafetensorsStreamWriter out(path, std::move(declared), metadata_);
  for (const auto& e : entries_) out.write_next(e.name, e.bytes.data(), e.bytes.size());
  out.commit();
}

}  // namespace qwen3vl

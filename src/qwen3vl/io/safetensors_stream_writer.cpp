#include "qwen3vl/io/safetensors_stream_writer.h"

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/json.h"

namespace qwen3vl {

namespace {

constexpr uint64_t kAlign = 64;

uint64_t align_up(uint64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

}  // namespace

SafetensorsStreamWriter::SafetensorsStreamWriter(std::string path, std::vector<Entry> entries,
                                                 const std::map<std::string, std::string>& metadata)
    : path_(std::move(path)), entries_(std::move(entries)) {
  Json header = Json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const Entry& e : entries_) {
    uint64_t numel = 1;
    for (int64_t d : e.shape) numel *= static_cast<uint64_t>(d);
    check(numel * dtype_size(e.dtype) == e.nbytes,
          path_ + ": tensor '" + e.name + "' declares " + std::to_string(e.nbytes) + " bytes, its shape needs " +
              std::to_string(numel * dtype_size(e.dtype)));
    check(!header.contains(e.name), path_ + ": tensor '" + e.name + "' declared twice");
    offset = align_up(offset);
    offsets_.push_back(offset);
    header[e.name] = {{"dtype", dtype_name(e.dtype)}, {"shape", e.shape}, {"data_offsets", {offset, offset + e.nbytes}}};
    offset += e.nbytes;
  }
  std::string text = header.dump();
  // Pad with spaces so the data section starts 64-byte aligned.
  while ((8 + text.size()) % kAlign != 0) text.push_back(' ');
  header_bytes_ = text.size();
  out_ = std::make_unique<AtomicFile>(path_);
  const uint64_t len = text.size();
  out_->write(&len, 8);
  out_->write(text);
}

SafetensorsStreamWriter::~SafetensorsStreamWriter() = default;

void SafetensorsStreamWriter::write_next(const std::string& name, const void* data, size_t nbytes) {
  check(next_ < entries_.size(), path_ + ": tensor '" + name + "' written after the last declared one");
  const Entry& e = entries_[next_];
  check(e.name == name && e.nbytes == nbytes,
        path_ + ": expected tensor '" + e.name + "' (" + std::to_string(e.nbytes) + " bytes) next, got '" + name +
            "' (" + std::to_string(nbytes) + " bytes)");
  static const char zeros[kAlign] = {};
  out_->write(zeros, offsets_[next_] - position_);
  out_->write(data, nbytes);
  position_ = offsets_[next_] + nbytes;
  ++next_;
}

void SafetensorsStreamWriter::commit() {
  check(next_ == entries_.size(), path_ + ": only " + std::to_string(next_) + " of " +
                                      std::to_string(entries_.size()) + " tensors were written");
  out_->commit();
}

}  // namespace qwen3vl

#include "qwen3vl/export/onnx/onnx_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include "qwen3vl/base/error.h"
#include "qwen3vl/export/onnx/microsoft_op_schemas.h"

namespace qwen3vl::onnx_export {

namespace {

constexpr size_t kExternalMin = 1024;  // smaller tensors always stay inline
constexpr uint64_t kAlign = 4096;      // page-aligned external tensors can be mapped
// Protobuf refuses messages of 2 GiB; leave room for the graph itself.
constexpr uint64_t kInlineLimit = 1800ull << 20;

// Why a stream operation failed: iostreams keep no error code, but the
// failing system call left errno set (EFBIG, ENOSPC, EACCES, ...).
std::string write_failure(const std::string& path) {
  const int e = errno;
  return "error writing " + path + ": " + (e ? std::strerror(e) : "unknown error");
}

std::string file_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

ExternalDataStore::ExternalDataStore(const std::string& model_path, const std::string& suffix,
                                     std::function<void(uint64_t)> on_bytes)
    : data_path_(model_path + suffix), location_(file_name(model_path) + suffix), on_bytes_(std::move(on_bytes)) {
  errno = 0;
  out_.open(data_path_, std::ios::binary | std::ios::trunc);
  check(out_.good(), write_failure(data_path_));
}

ExternalDataStore::~ExternalDataStore() {
  if (out_.is_open()) out_.close();
}

void ExternalDataStore::close() {
  if (!out_.is_open()) return;
  errno = 0;
  out_.close();
  check(out_.good(), write_failure(data_path_));
}

void ExternalDataStore::store(onnx::TensorProto& tensor, const void* bytes, size_t nbytes) {
  if (nbytes < kExternalMin) {
    tensor.set_raw_data(bytes, nbytes);
    return;
  }
  const uint64_t pad = (kAlign - offset_ % kAlign) % kAlign;
  static const std::vector<char> zeros(kAlign, 0);
  errno = 0;
  out_.write(zeros.data(), static_cast<std::streamsize>(pad));
  offset_ += pad;
  out_.write(static_cast<const char*>(bytes), static_cast<std::streamsize>(nbytes));
  check(out_.good(), write_failure(data_path_));
  tensor.set_data_location(onnx::TensorProto::EXTERNAL);
  auto add = [&](const char* key, const std::string& value) {
    auto* e = tensor.add_external_data();
    e->set_key(key);
    e->set_value(value);
  };
  add("location", location_);
  add("offset", std::to_string(offset_));
  add("length", std::to_string(nbytes));
  offset_ += nbytes;
  if (on_bytes_) on_bytes_(offset_);
}

namespace {

// Moves every external tensor's bytes back into the model.
void inline_external_data(onnx::ModelProto& model, const std::string& data_path) {
  std::ifstream in(data_path, std::ios::binary);
  check(in.good(), "cannot read back " + data_path);
  for (auto& t : *model.mutable_graph()->mutable_initializer()) {
    if (t.data_location() != onnx::TensorProto::EXTERNAL) continue;
    uint64_t offset = 0, length = 0;
    for (const auto& e : t.external_data()) {
      if (e.key() == "offset") offset = std::stoull(e.value());
      if (e.key() == "length") length = std::stoull(e.value());
    }
    std::string bytes(length, '\0');
    in.seekg(static_cast<std::streamoff>(offset));
    in.read(bytes.data(), static_cast<std::streamsize>(length));
    check(in.good(), "reading back " + data_path + " failed");
    t.clear_external_data();
    t.set_data_location(onnx::TensorProto::DEFAULT);
    t.set_raw_data(std::move(bytes));
  }
}

}  // namespace

void write_model(onnx::ModelProto& model, const std::string& path, ExternalDataStore& store, bool keep_external) {
  store.close();
  if (store.external_bytes() == 0 || (!keep_external && store.external_bytes() < kInlineLimit)) {
    inline_external_data(model, store.data_path());
    std::remove(store.data_path().c_str());
  }
  {
    errno = 0;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    check(out.good(), write_failure(path));
    check(model.SerializeToOstream(&out), write_failure(path));
    out.close();
    check(out.good(), write_failure(path));
  }
  validate_model_file(path);
}

void validate_model_file(const std::string& path) {
  register_microsoft_op_schemas();
  try {
    onnx::checker::check_model(path);
    onnx::ModelProto model;
    {
      std::ifstream in(path, std::ios::binary);
      check(in.good() && model.ParseFromIstream(&in), "cannot parse " + path);
    }
    // Strict: any node whose shapes or types cannot be inferred fails.
    onnx::ShapeInferenceOptions options(/*check_type=*/true, /*error_mode=*/1, /*data_propagation=*/true);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error("ONNX validation of " + path + " failed: " + e.what());
  }
}

}  // namespace qwen3vl::onnx_export

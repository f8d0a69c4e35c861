#include "qwen3vl/io/checkpoint.h"

#include <sys/stat.h>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/json.h"

namespace qwen3vl {

namespace {

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

Checkpoint::Checkpoint(const std::string& path) : dir_(path) {
  if (is_regular_file(path)) {
    single_file_ = true;
    shards_.push_back(std::make_unique<SafetensorsFile>(path));
    for (const auto& [name, view] : shards_.back()->tensors()) index_[name] = &view;
    return;
  }
  const std::string& dir = path;
  const std::string single = dir + "/model.safetensors";
  const std::string index_path = dir + "/model.safetensors.index.json";
  std::vector<std::string> shard_files;
  if (file_exists(index_path)) {
    const Json index = load_json_file(index_path);
    if (!index.contains("weight_map") || !index["weight_map"].is_object())
      throw Error(index_path + ": no \"weight_map\" object");
    std::map<std::string, bool> seen;
    for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
      if (!it->is_string()) throw Error(index_path + ": weight_map entry '" + it.key() + "' is not a file name");
      const std::string f = it->get<std::string>();
      if (f.find('/') != std::string::npos || f.find("..") != std::string::npos)
        throw Error(index_path + ": shard name '" + f + "' must be a plain file name");
      if (!seen[f]) {
        seen[f] = true;
        shard_files.push_back(f);
      }
    }
    if (shard_files.empty()) throw Error(index_path + ": weight_map lists no shards");
  } else if (file_exists(single)) {
    shard_files.push_back("model.safetensors");
  } else {
    throw Error("no weights in " + dir + ": expected model.safetensors or model.safetensors.index.json");
  }
  for (const auto& f : shard_files) {
    shards_.push_back(std::make_unique<SafetensorsFile>(dir + "/" + f));
    for (const auto& [name, view] : shards_.back()->tensors()) {
      if (index_.count(name)) throw Error("tensor '" + name + "' appears in two shards (" + f + ")");
      index_[name] = &view;
    }
  }
}

bool Checkpoint::has(const std::string& name) const { return index_.count(name) != 0; }

const TensorView& Checkpoint::get(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) throw Error("checkpoint " + dir_ + " is missing tensor '" + name + "'");
  return *it->second;
}

const TensorView& Checkpoint::get(const std::string& name, const std::vector<int64_t>& shape) const {
  const TensorView& v = get(name);
  if (v.shape != shape) {
    TensorView expect;
    expect.shape = shape;
    throw Error(v.file + ": tensor '" + name + "' has shape " + v.shape_string() + ", the config needs " +
                expect.shape_string());
  }
  return v;
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  for (const auto& [name, v] : index_) out.push_back(name);
  return out;
}

size_t Checkpoint::total_bytes() const {
  size_t n = 0;
  for (const auto& [name, v] : index_) n += v->nbytes;
  return n;
}

const std::map<std::string, std::string>& Checkpoint::file_metadata() const {
  static const std::map<std::string, std::string> kNone;
  return single_file_ ? shards_.front()->metadata() : kNone;
}

}  // namespace qwen3vl

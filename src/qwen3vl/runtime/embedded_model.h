// The tiny random-weight Qwen3-VL checkpoint linked into the binary: the model
// `qwen3vl run` uses without -m, and the tokenizer/template that
// make-random-model bundles. Its weights are random, so its words are noise.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace qwen3vl {

struct EmbeddedFile {
  std::string name;       // file name inside a checkpoint directory
  std::string_view data;  // bytes in the binary
};

std::vector<EmbeddedFile> embedded_model_files();

// Writes the embedded checkpoint to a cache directory once ($QWEN3VL_CACHE,
// else $XDG_CACHE_HOME/qwen3vl, else ~/.cache/qwen3vl, else /tmp) and returns
// its path. Later calls reuse it when the files are complete and unchanged.
std::string embedded_model_dir();

}  // namespace qwen3vl

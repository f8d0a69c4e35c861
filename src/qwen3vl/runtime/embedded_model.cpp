#include "qwen3vl/runtime/embedded_model.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "qwen3vl/base/cache_dir.h"
#include "qwen3vl/base/error.h"

#define QWEN3VL_DECLARE_EMBED(sym) \
  extern "C" const char sym##_begin[]; \
  extern "C" const char sym##_end[];
QWEN3VL_DECLARE_EMBED(qwen3vl_embedded_config)
QWEN3VL_DECLARE_EMBED(qwen3vl_embedded_generation_config)
QWEN3VL_DECLARE_EMBED(qwen3vl_embedded_preprocessor_config)
QWEN3VL_DECLARE_EMBED(qwen3vl_embedded_chat_template)
QWEN3VL_DECLARE_EMBED(qwen3vl_embedded_tokenizer)
QWEN3VL_DECLARE_EMBED(qwen3vl_embedded_tokenizer_config)
QWEN3VL_DECLARE_EMBED(qwen3vl_embedded_weights)

namespace qwen3vl {

namespace fs = std::filesystem;

std::vector<EmbeddedFile> embedded_model_files() {
  auto view = [](const char* b, const char* e) { return std::string_view(b, static_cast<size_t>(e - b)); };
  return {
      {"config.json", view(qwen3vl_embedded_config_begin, qwen3vl_embedded_config_end)},
      {"generation_config.json",
       view(qwen3vl_embedded_generation_config_begin, qwen3vl_embedded_generation_config_end)},
      {"preprocessor_config.json",
       view(qwen3vl_embedded_preprocessor_config_begin, qwen3vl_embedded_preprocessor_config_end)},
      {"chat_template.json", view(qwen3vl_embedded_chat_template_begin, qwen3vl_embedded_chat_template_end)},
      {"tokenizer.json", view(qwen3vl_embedded_tokenizer_begin, qwen3vl_embedded_tokenizer_end)},
      {"tokenizer_config.json",
       view(qwen3vl_embedded_tokenizer_config_begin, qwen3vl_embedded_tokenizer_config_end)},
      {"model.safetensors", view(qwen3vl_embedded_weights_begin, qwen3vl_embedded_weights_end)},
  };
}

namespace {

bool same_size(const fs::path& p, size_t n) {
  std::error_code ec;
  return fs::exists(p, ec) && fs::file_size(p, ec) == n;
}

}  // namespace

std::string embedded_model_dir() {
  const auto files = embedded_model_files();
  size_t total = 0;
  for (const auto& f : files) total += f.data.size();
  // The directory name carries the total size so a rebuilt binary with other
  // embedded files never reuses a stale copy.
  const fs::path dir = fs::path(qwen3vl_cache_dir()) / ("default-model-" + std::to_string(total));
  bool complete = true;
  for (const auto& f : files) complete = complete && same_size(dir / f.name, f.data.size());
  if (complete) return dir.string();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error("cannot create " + dir.string() + " for the default model: " + ec.message());
  for (const auto& f : files) {
    // Write to a temporary name and rename, so concurrent first runs never
    // see a half-written file.
    const fs::path tmp = dir / (f.name + ".tmp" + std::to_string(::getpid()));
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out.write(f.data.data(), static_cast<std::streamsize>(f.data.size()));
      if (!out) throw Error("cannot write " + tmp.string());
    }
    fs::rename(tmp, dir / f.name, ec);
    if (ec) throw Error("cannot write " + (dir / f.name).string() + ": " + ec.message());
  }
  return dir.string();
}

}  // namespace qwen3vl

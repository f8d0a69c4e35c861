#include <gtest/gtest.h>

#include <string>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/json.h"
#include "qwen3vl/model/kv_cache.h"
#include "qwen3vl/model/model_config.h"

using namespace qwen3vl;

namespace {
const std::string kRealConfigs = std::string(QWEN3VL_FIXTURE_DIR) + "/../real-configs/";

struct Expected {
  const char* file;
  int hidden, layers, heads;
  bool tied;
};
}  // namespace

TEST(DecoderConfig, RealQwen3VLSizesParse) {
  for (const Expected& e : {Expected{"qwen3-vl-2b", 2048, 28, 16, true}, Expected{"qwen3-vl-4b", 2560, 36, 32, true},
                            Expected{"qwen3-vl-8b", 4096, 36, 32, false}}) {
    const ModelConfig c = load_model_config(kRealConfigs + e.file + ".config.json");
    EXPECT_EQ(c.text.hidden_size, e.hidden) << e.file;
    EXPECT_EQ(c.text.num_layers, e.layers) << e.file;
    EXPECT_EQ(c.text.num_heads, e.heads) << e.file;
    EXPECT_EQ(c.text.num_kv_heads, 8) << e.file;
    EXPECT_EQ(c.text.head_dim, 128) << e.file;
    EXPECT_EQ(c.text.vocab_size, 151936) << e.file;
    EXPECT_EQ(c.tie_word_embeddings, e.tied) << e.file;
    EXPECT_EQ(c.text.mrope_section, (std::array<int, 3>{24, 20, 20})) << e.file;
    EXPECT_DOUBLE_EQ(c.text.rope_theta, 5e6) << e.file;
  }
}

TEST(DecoderConfig, RopeParametersReplaceRopeScaling) {
  // Newer transformers: rope_parameters (with rope_theta inside), no rope_scaling.
  Json j = load_json_file(kRealConfigs + "qwen3-vl-4b.config.json");
  Json& t = j["text_config"];
  t.erase("rope_scaling");
  t.erase("rope_theta");
  t["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1234567.0},
                          {"mrope_section", {32, 16, 16}}, {"mrope_interleaved", true}};
  const ModelConfig c = parse_model_config(j, "edited 4B config");
  EXPECT_DOUBLE_EQ(c.text.rope_theta, 1234567.0);
  EXPECT_EQ(c.text.mrope_section, (std::array<int, 3>{32, 16, 16}));

  t["rope_parameters"]["mrope_section"] = {24, 20, 19};  // does not sum to 64
  EXPECT_THROW(parse_model_config(j, "edited 4B config"), Error);
}

TEST(DecoderConfig, KVCacheIsSizedFromTheContextAsked) {
  // 8B-like shape: 36 layers x (K+V) x 512 tokens x 8 heads x 128 dims x 4 bytes.
  KVCache cache(36, 8, 128, 512);
  EXPECT_EQ(cache.bytes(), size_t(36) * 2 * 512 * 1024 * 4);
  EXPECT_EQ(cache.size(), 0);
  EXPECT_NO_THROW(cache.ensure_room(512));
  EXPECT_THROW(cache.ensure_room(513), Error);
  EXPECT_THROW(KVCache(36, 8, 128, 0), Error);
}

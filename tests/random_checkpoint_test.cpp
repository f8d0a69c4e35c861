#include <gtest/gtest.h>

#include <filesystem>

#include "qwen3vl/base/json.h"
#include "qwen3vl/base/mapped_file.h"
#include "qwen3vl/io/checkpoint.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/model/presets.h"
#include "qwen3vl/model/random_checkpoint.h"
#include "qwen3vl/model/tensor_specs.h"
#include "qwen3vl/qwen3vl.h"

using namespace qwen3vl;
namespace fs = std::filesystem;

static const std::string kFixture = QWEN3VL_FIXTURE_DIR;

TEST(RandomCheckpoint, ShardedDeterministicAndLoadable) {
  const Json config = load_json_file(kFixture + "/config.json");
  const std::string a = ::testing::TempDir() + "/rand_a", b = ::testing::TempDir() + "/rand_b";
  RandomCheckpointOptions opts;
  opts.max_shard_bytes = 4 << 20;  // forces several shards for a 15 MB model
  fs::remove_all(a);
  fs::remove_all(b);
  write_random_checkpoint(config, a, opts);
  write_random_checkpoint(config, b, opts);
  ASSERT_TRUE(file_exists(a + "/model.safetensors.index.json"));
  Checkpoint ca(a), cb(b);
  const ModelConfig cfg = load_model_config(a + "/config.json");
  for (const auto& s : qwen3vl_tensor_specs(cfg).all()) {
    const auto& ta = ca.get(s.name, s.shape);
    const auto& tb = cb.get(s.name, s.shape);
    ASSERT_EQ(ta.nbytes, tb.nbytes);
    EXPECT_EQ(0, std::memcmp(ta.data, tb.data, ta.nbytes)) << s.name;
  }
  // Norm weights are near one, projections small: a forward pass stays finite.
  const auto norm = ca.get("model.language_model.norm.weight").to_f32();
  for (float v : norm) EXPECT_NEAR(v, 1.0f, 0.11f);
  const auto q = ca.get("model.language_model.layers.0.self_attn.q_proj.weight").to_f32();
  for (float v : q) EXPECT_LE(std::abs(v), 0.035f);
  // Weights and config only: the tokenizer is the public API's to add.
  EXPECT_FALSE(file_exists(a + "/tokenizer.json"));
}

TEST(RandomModel, PublicApiWritesALoadableCheckpoint) {
  const std::string dir = ::testing::TempDir() + "/rand_model";
  uint64_t last_done = 0, last_total = 0;
  RandomModelOptions opts;
  opts.progress = [&](uint64_t done, uint64_t total) { last_done = done, last_total = total; };
  write_random_model(load_json_file(kFixture + "/config.json"), dir, opts);
  EXPECT_GT(last_total, 0u);
  EXPECT_EQ(last_done, last_total);
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "chat_template.json",
                        "generation_config.json", "preprocessor_config.json"})
    EXPECT_TRUE(file_exists(dir + "/" + f)) << f;
  auto model = Model::load(dir);
  EXPECT_EQ(model->config().text.hidden_size, 48);
  Session session(model);
  GenerateOptions g;
  g.max_tokens = 2;
  const GenerationResult r = session.generate(Json::parse(R"([{"role": "user", "content": "Hi"}])"), g);
  EXPECT_FALSE(r.prompt_ids.empty());
  EXPECT_FALSE(r.output_ids.empty());
  fs::remove_all(dir);
}

TEST(Presets, MatchPublishedConfigs) {
  for (const std::string p : {"2b", "4b", "8b", "30b-a3b"}) {
    const ModelConfig mine = parse_model_config(preset_config_json(p), p);
    const ModelConfig real =
        load_model_config(kFixture + "/../real-configs/qwen3-vl-" + p + ".config.json");
    EXPECT_EQ(model_config_to_json(mine), model_config_to_json(real)) << p;
  }
}

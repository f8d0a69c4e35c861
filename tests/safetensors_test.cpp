#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "qwen3vl/base/error.h"
#include "qwen3vl/io/checkpoint.h"
#include "qwen3vl/io/safetensors.h"
#include "qwen3vl/model/model_config.h"

using namespace qwen3vl;
namespace fs = std::filesystem;

static const std::string kFixture = QWEN3VL_FIXTURE_DIR;

TEST(Safetensors, OpensFixtureAndValidatesShapes) {
  Checkpoint ckpt(kFixture);
  const ModelConfig cfg = load_model_config(kFixture + "/config.json");
  const auto& emb = ckpt.get("model.language_model.embed_tokens.weight",
                             {cfg.text.vocab_size, cfg.text.hidden_size});
  EXPECT_EQ(emb.dtype, DType::BF16);
  EXPECT_FALSE(ckpt.has("lm_head.weight"));
  EXPECT_THROW(ckpt.get("model.language_model.embed_tokens.weight", {1, 2}), Error);
}

TEST(Safetensors, WriterRoundTrip) {
  const std::string path = ::testing::TempDir() + "/rt.safetensors";
  SafetensorsWriter w;
  w.add_f32("a", {2, 3}, {1, 2, 3, 4, 5, 6.5f});
  w.add_i64("b", {2}, {7, -8});
  w.write(path);
  SafetensorsFile f(path);
  EXPECT_EQ(f.get("a").shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(f.get("a").to_f32()[5], 6.5f);
  EXPECT_EQ(static_cast<const int64_t*>(f.get("b").data)[1], -8);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(f.get("a").data) % 64, 0u);
}

#include "qwen3vl/model/tensor_specs.h"

TEST(TensorSpecs, MatchFixtureExactly) {
  Checkpoint ckpt(kFixture);
  const ModelConfig cfg = load_model_config(kFixture + "/config.json");
  const auto specs = qwen3vl_tensor_specs(cfg).all();
  EXPECT_EQ(specs.size(), ckpt.names().size());
  for (const auto& s : specs) EXPECT_NO_THROW(ckpt.get(s.name, s.shape)) << s.name;
}

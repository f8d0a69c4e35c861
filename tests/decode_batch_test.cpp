// Continuous batching in the model layer: several sequences decoded in one
// pass (Qwen3VLModel::decode_batch) give, bit for bit, the logits each gets
// alone, in every weight format, while sequences join (prefilled between
// steps) and leave the batch; and a bad batch changes no cache. Dense and
// Mixture-of-Experts models (there, sequences picking the same expert share
// its read, and each still gets its own result exactly).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/io/checkpoint.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/model/qwen3vl_model.h"
#include "qwen3vl/weights/weight_formats.h"
#include "test_pool.h"

using namespace qwen3vl;

namespace {

const std::string kFixture = QWEN3VL_FIXTURE_DIR;
const std::string kMoeFixture = QWEN3VL_MOE_FIXTURE_DIR;
constexpr int64_t kContext = 64;

struct Loaded {
  explicit Loaded(const std::string& dir) : config(load_model_config(dir + "/config.json")), checkpoint(dir) {}
  ModelConfig config;
  Checkpoint checkpoint;
  std::unique_ptr<Qwen3VLModel> model;
};

// A fixture's text model with its weights in `quant` ("auto" keeps the
// stored bf16).
const Qwen3VLModel& model_in(const std::string& quant, const std::string& dir = kFixture) {
  static std::map<std::string, std::unique_ptr<Loaded>> models;
  auto& slot = models[dir + ":" + quant];
  if (!slot) {
    slot = std::make_unique<Loaded>(dir);
    ModelWeightsOptions options;
    options.weights = weight_options_from_name(quant, qwen3vl::testing::test_pool());
    options.load_vision = false;
    slot->model = std::make_unique<Qwen3VLModel>(slot->config, slot->checkpoint, options);
  }
  return *slot->model;
}

ForwardContext context() { return {qwen3vl::testing::test_pool(), nullptr, nullptr}; }

int32_t argmax(std::span<const float> logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

// Three text prompts of different lengths (so the sequences sit at
// different positions of their caches).
std::vector<PromptLayout> prompts(const Qwen3VLModel& model) {
  const std::vector<std::vector<int32_t>> ids = {
      {9707, 11, 1246, 525, 498, 30}, {785, 3974, 13876, 38835, 34208, 916, 279, 15678, 5562, 13, 358}, {40, 1079}};
  std::vector<PromptLayout> out;
  for (const auto& p : ids) out.push_back(model.layout_prompt(p, {}));
  return out;
}

// Greedy decoding of one prompt alone: the logits of every step.
std::vector<std::vector<float>> solo_logits(const Qwen3VLModel& model, const PromptLayout& prompt, int steps) {
  KVCache cache = model.make_cache(kContext, KVCacheType::F32);
  DecoderWorkspace ws;
  std::span<const float> logits = model.prefill(prompt, {}, 0, cache, ws, context());
  std::vector<std::vector<float>> out = {{logits.begin(), logits.end()}};
  for (int s = 1; s < steps; ++s) {
    logits = model.decode_step(argmax(logits), prompt.rope_delta, cache, ws, context());
    out.push_back({logits.begin(), logits.end()});
  }
  return out;
}

// (fixture, weight format)
class DecodeBatch : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};
INSTANTIATE_TEST_SUITE_P(Formats, DecodeBatch,
                         ::testing::Combine(::testing::Values("dense", "moe"),
                                            ::testing::Values("auto", "f32", "q8", "q4")),
                         [](const auto& info) { return std::get<0>(info.param) + "_" + std::get<1>(info.param); });

TEST_P(DecodeBatch, EachSequenceGetsItsLogitsAloneWhileOthersJoinAndLeave) {
  const auto& [kind, quant] = GetParam();
  const Qwen3VLModel& model = model_in(quant, kind == "moe" ? kMoeFixture : kFixture);
  const std::vector<PromptLayout> layouts = prompts(model);
  // Sequence i joins the batch after join[i] steps and runs steps[i] steps.
  const int join[] = {0, 0, 2};
  const int steps[] = {7, 4, 5};
  std::vector<std::vector<std::vector<float>>> want;
  for (size_t i = 0; i < layouts.size(); ++i) want.push_back(solo_logits(model, layouts[i], steps[i]));

  struct Running {
    KVCache cache;
    std::vector<std::vector<float>> logits;
  };
  std::vector<Running> seqs;
  for (size_t i = 0; i < layouts.size(); ++i) seqs.push_back({model.make_cache(kContext, KVCacheType::F32), {}});
  DecoderWorkspace batch_ws, prefill_ws;
  int max_batch = 0;
  for (int step = 0; step < 8; ++step) {
    // Joining sequences are prefilled between decode steps, on their own.
    for (size_t i = 0; i < layouts.size(); ++i)
      if (join[i] == step) {
        const auto l = model.prefill(layouts[i], {}, 0, seqs[i].cache, prefill_ws, context());
        seqs[i].logits.push_back({l.begin(), l.end()});
      }
    std::vector<DecodeRequest> batch;
    std::vector<size_t> who;
    for (size_t i = 0; i < layouts.size(); ++i) {
      const int done = static_cast<int>(seqs[i].logits.size());
      if (done == 0 || done >= steps[i]) continue;  // not joined yet, or finished
      batch.push_back({argmax(seqs[i].logits.back()), layouts[i].rope_delta, &seqs[i].cache});
      who.push_back(i);
    }
    if (batch.empty()) continue;
    max_batch = std::max(max_batch, static_cast<int>(batch.size()));
    const auto logits = model.decode_batch(batch, batch_ws, context());
    const size_t vocab = static_cast<size_t>(model.config().text.vocab_size);
    ASSERT_EQ(logits.size(), batch.size() * vocab);
    for (size_t b = 0; b < who.size(); ++b)
      seqs[who[b]].logits.push_back({logits.begin() + b * vocab, logits.begin() + (b + 1) * vocab});
  }
  EXPECT_EQ(max_batch, 3);
  for (size_t i = 0; i < layouts.size(); ++i) {
    ASSERT_EQ(seqs[i].logits.size(), want[i].size()) << "sequence " << i;
    for (size_t s = 0; s < want[i].size(); ++s)
      EXPECT_TRUE(seqs[i].logits[s] == want[i][s]) << kind << " " << quant << ": sequence " << i << " step " << s
                                                   << " differs from the same sequence decoded alone";
    EXPECT_EQ(seqs[i].cache.size(), layouts[i].length() + steps[i] - 1);
  }
}

TEST(DecodeBatchErrors, ABadBatchChangesNoCache) {
  const Qwen3VLModel& model = model_in("auto");
  const std::vector<PromptLayout> layouts = prompts(model);
  KVCache a = model.make_cache(kContext, KVCacheType::F32);
  KVCache full = model.make_cache(layouts[2].length(), KVCacheType::F32);
  DecoderWorkspace ws;
  model.prefill(layouts[0], {}, 0, a, ws, context());
  model.prefill(layouts[2], {}, 0, full, ws, context());
  const int64_t a_size = a.size(), full_size = full.size();

  const DecodeRequest twice[] = {{1, 0, &a}, {2, 0, &a}};
  EXPECT_THROW(model.decode_batch(twice, ws, context()), Error);
  const DecodeRequest no_room[] = {{1, 0, &a}, {2, 0, &full}};
  EXPECT_THROW(model.decode_batch(no_room, ws, context()), Error);
  const DecodeRequest bad_token[] = {{1, 0, &a}, {-5, 0, &full}};
  EXPECT_THROW(model.decode_batch(bad_token, ws, context()), Error);
  const DecodeRequest no_cache[] = {{1, 0, &a}, {2, 0, nullptr}};
  EXPECT_THROW(model.decode_batch(no_cache, ws, context()), Error);
  EXPECT_EQ(a.size(), a_size);
  EXPECT_EQ(full.size(), full_size);
}

}  // namespace

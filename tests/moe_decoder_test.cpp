// The Mixture-of-Experts text decoder (qwen3_vl_moe) against the goldens of
// tests/fixtures/tiny-qwen3vl-moe: config fields, the routing rule, every
// layer's routing and outputs, logits and greedy decoding with the routing of
// each generated token, all in float32.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/json.h"
#include "qwen3vl/io/checkpoint.h"
#include "qwen3vl/io/safetensors.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/model/moe_mlp.h"
#include "qwen3vl/model/moe_routing.h"
#include "qwen3vl/model/tensor_specs.h"
#include "qwen3vl/model/text_decoder.h"
#include "qwen3vl/runtime/expert_usage_stats.h"
#include "golden_decoder_case.h"
#include "test_pool.h"

using namespace qwen3vl;

namespace {

const std::string kMoe = QWEN3VL_MOE_FIXTURE_DIR;
const std::string kRealConfigs = std::string(QWEN3VL_FIXTURE_DIR) + "/../real-configs/";

std::vector<int64_t> ints(const TensorView& t) {
  EXPECT_EQ(t.dtype, DType::I64) << t.name;
  const auto* p = static_cast<const int64_t*>(t.data);
  return std::vector<int64_t>(p, p + t.numel());
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float m = 0.0f;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

using qwen3vl::testing::DecoderRun;

int32_t argmax(std::span<const float> v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

struct MoeCase : qwen3vl::testing::GoldenDecoderCase {
  explicit MoeCase(const std::string& name) : GoldenDecoderCase(kMoe, name) {}
};

// Prefill, then greedy decoding that feeds back every generated token
// (including the last, as the goldens record its routing).
void check_case(const std::string& name) {
  MoeCase c(name);
  Checkpoint ckpt(kMoe);
  DecoderRun dec(c.config, ckpt);
  std::map<std::string, std::vector<float>> f32;
  std::map<std::string, std::vector<int64_t>> i64;
  TensorSink sink;
  sink.f32 = [&](const std::string& n, const std::vector<int64_t>& shape, const float* d) {
    f32[n].assign(d, d + shape[0] * shape[1]);
  };
  sink.i64 = [&](const std::string& n, const std::vector<int64_t>& shape, const int64_t* d) {
    i64[n].assign(d, d + shape[0] * shape[1]);
  };
  dec.capture = &sink;
  const std::vector<int64_t> generated(c.generated.begin(), c.generated.end());
  KVCache cache = dec.make_cache(static_cast<int64_t>(c.ids.size() + generated.size() + 1));
  const auto prefill = dec.forward(c.prompt(), cache);
  const std::vector<float> logits(prefill.begin(), prefill.end());

  for (int layer : {0, 2}) {
    const std::string l = std::to_string(layer);
    EXPECT_EQ(i64["router_topk_ids_layer" + l], ints(c.golden.get("router_topk_ids_layer" + l))) << name << " " << l;
    EXPECT_LE(max_abs_diff(f32["router_topk_weights_layer" + l], c.golden.get("router_topk_weights_layer" + l).to_f32()),
              1e-4f) << name << " " << l;
    EXPECT_LE(max_abs_diff(f32["router_logits_layer" + l], c.golden.get("router_logits_layer" + l).to_f32()), 1e-3f)
        << name << " " << l;
    EXPECT_LE(max_abs_diff(f32["moe_out_layer" + l], c.golden.get("moe_out_layer" + l).to_f32()), 1e-3f)
        << name << " " << l;
  }
  EXPECT_EQ(i64.count("router_topk_ids_layer1"), 0u) << "layer 1 is a dense MLP layer";
  for (int layer = 0; layer < 3; ++layer) {
    const std::string t = "text_layer" + std::to_string(layer) + "_out";
    EXPECT_LE(max_abs_diff(f32[t], c.golden.get(t).to_f32()), 1e-3f) << name << " " << t;
  }
  EXPECT_LE(max_abs_diff(logits, c.golden.get("logits_last").to_f32()), 1e-3f) << name;

  std::map<std::string, std::vector<int64_t>> routed;
  TensorSink routing_sink;
  routing_sink.i64 = [&](const std::string& n, const std::vector<int64_t>& shape, const int64_t* d) {
    routed[n].insert(routed[n].end(), d, d + shape[0] * shape[1]);
  };
  dec.capture = &routing_sink;
  std::vector<int64_t> got;
  int32_t token = argmax(logits);
  for (size_t step = 0; step < generated.size(); ++step) {
    got.push_back(token);
    const int32_t pos = static_cast<int32_t>(cache.size()) + c.rope_delta;
    DecoderInput in;
    in.ids = std::span<const int32_t>(&token, 1);
    for (int a = 0; a < 3; ++a) in.positions[a] = std::span<const int32_t>(&pos, 1);
    token = argmax(dec.forward(in, cache));
  }
  EXPECT_EQ(got, generated) << name;
  for (int layer : {0, 2}) {
    const std::string l = std::to_string(layer);
    EXPECT_EQ(routed["router_topk_ids_layer" + l], ints(c.golden.get("generated_router_topk_ids_layer" + l)))
        << name << " layer " << l;
  }
}

}  // namespace

TEST(MoeConfig, FixtureAndRealConfigsParse) {
  const ModelConfig tiny = load_model_config(kMoe + "/config.json");
  EXPECT_EQ(tiny.model_type, "qwen3_vl_moe");
  EXPECT_EQ(tiny.text.num_experts, 8);
  EXPECT_EQ(tiny.text.num_experts_per_tok, 2);
  EXPECT_EQ(tiny.text.moe_intermediate_size, 32);
  EXPECT_EQ(tiny.text.intermediate_size, 64);
  EXPECT_TRUE(tiny.text.is_moe_layer(0));
  EXPECT_FALSE(tiny.text.is_moe_layer(1));  // mlp_only_layers [1]
  EXPECT_TRUE(tiny.text.is_moe_layer(2));

  const ModelConfig big = load_model_config(kRealConfigs + "qwen3-vl-30b-a3b.config.json");
  EXPECT_EQ(big.text.num_experts, 128);
  EXPECT_EQ(big.text.num_experts_per_tok, 8);
  EXPECT_EQ(big.text.moe_intermediate_size, 768);
  EXPECT_FALSE(big.tie_word_embeddings);
  for (int i = 0; i < big.text.num_layers; ++i) EXPECT_TRUE(big.text.is_moe_layer(i)) << i;
  // The published parameter count, from the tensor list the loader checks.
  int64_t params = 0;
  for (const TensorSpec& s : qwen3vl_tensor_specs(big).all()) {
    params += s.numel();
  }
  EXPECT_EQ(params, 31'070'754'032);
  // The dense configs have no expert fields and no MoE layer.
  const ModelConfig dense = load_model_config(kRealConfigs + "qwen3-vl-4b.config.json");
  EXPECT_FALSE(dense.text.is_moe());
  EXPECT_FALSE(dense.text.is_moe_layer(0));
  // The round trip keeps the expert fields.
  EXPECT_EQ(model_config_to_json(parse_model_config(model_config_to_json(tiny), "round trip")),
            model_config_to_json(tiny));
}

TEST(MoeConfig, DecoderSparseStepPicksTheLayers) {
  Json j = load_json_file(kMoe + "/config.json");
  j["text_config"]["decoder_sparse_step"] = 2;
  j["text_config"]["mlp_only_layers"] = Json::array();
  const ModelConfig c = parse_model_config(j, "edited");
  // (layer + 1) % 2 == 0: only layer 1.
  EXPECT_FALSE(c.text.is_moe_layer(0));
  EXPECT_TRUE(c.text.is_moe_layer(1));
  EXPECT_FALSE(c.text.is_moe_layer(2));
}

TEST(MoeConfig, BadExpertFieldsAreNamed) {
  struct Edit {
    const char* key;
    Json value;
    const char* fragment;
  } edits[] = {{"num_experts_per_tok", 9, "exceeds num_experts"},
               {"num_experts", 0, "\"num_experts\" must be positive"},
               {"moe_intermediate_size", nullptr, "missing \"moe_intermediate_size\""},
               {"mlp_only_layers", Json::array({3}), "mlp_only_layers entry 3"},
               {"decoder_sparse_step", "two", "\"decoder_sparse_step\" has the wrong type"}};
  for (const Edit& e : edits) {
    Json j = load_json_file(kMoe + "/config.json");
    if (e.value.is_null()) j["text_config"].erase(e.key);
    else j["text_config"][e.key] = e.value;
    try {
      parse_model_config(j, "moe config");
      ADD_FAILURE() << e.key << ": no error";
    } catch (const Error& err) {
      EXPECT_NE(std::string(err.what()).find(e.fragment), std::string::npos) << err.what();
    }
  }
}

TEST(MoeRouting, SoftmaxTopKRenormalised) {
  // Probabilities proportional to 1, 2, 4, 8 (logits ln 1 .. ln 8), then a
  // tie: top-2 of the first row is experts 3 (8/15 -> 8/12) and 2 (4/12).
  const float l2 = std::log(2.0f);
  const std::vector<float> logits = {0.0f, l2, 2 * l2, 3 * l2,  // row 0
                                     1.0f, 5.0f, 1.0f, 5.0f};   // row 1: a tie between 1 and 3
  std::vector<int32_t> ids(4);
  std::vector<float> weights(4);
  route_top_k(logits.data(), 2, 4, 2, ids.data(), weights.data());
  EXPECT_EQ(ids, (std::vector<int32_t>{3, 2, 1, 3}));
  EXPECT_NEAR(weights[0], 8.0f / 12.0f, 1e-6f);
  EXPECT_NEAR(weights[1], 4.0f / 12.0f, 1e-6f);
  EXPECT_NEAR(weights[2], 0.5f, 1e-6f);
  EXPECT_NEAR(weights[3], 0.5f, 1e-6f);
  // k == experts: every expert, in descending order, weights the softmax.
  std::vector<int32_t> all(4);
  std::vector<float> w(4);
  route_top_k(logits.data(), 1, 4, 4, all.data(), w.data());
  EXPECT_EQ(all, (std::vector<int32_t>{3, 2, 1, 0}));
  EXPECT_NEAR(w[3], 1.0f / 15.0f, 1e-6f);
}

TEST(MoeDecoder, Case1TextMatchesGoldenWithExactRouting) { check_case("case1_text"); }

TEST(MoeDecoder, Case2OneImageMatchesGoldenWithExactRouting) { check_case("case2_one_image"); }

TEST(MoeDecoder, ChunkedPrefillEqualsOneChunk) {
  MoeCase c("case2_one_image");
  Checkpoint ckpt(kMoe);
  DecoderRun dec(c.config, ckpt);
  KVCache a = dec.make_cache(128), b = dec.make_cache(128);
  const auto whole = dec.forward(c.prompt(), a);
  const std::vector<float> ref(whole.begin(), whole.end());
  // Chunks of 1 (decode-sized) then the rest: routing is per token, so the
  // expert groups change with the chunking but no result may.
  std::vector<float> last;
  const size_t L = c.ids.size();
  for (auto [begin, end] : {std::pair<size_t, size_t>{0, 1}, {1, 2}, {2, L}}) {
    const auto s = dec.forward(c.chunk(begin, end), b);
    last.assign(s.begin(), s.end());
  }
  EXPECT_LE(max_abs_diff(last, ref), 1e-4f);
}

TEST(MoeDecoder, BytesPerTokenCountOnlyTheSelectedExperts) {
  const ModelConfig config = load_model_config(kMoe + "/config.json");
  Checkpoint ckpt(kMoe);
  DecoderRun dec(config, ckpt);
  // bf16 as stored. Per MoE layer: router 8x16, two experts of 16x64 + 32x16;
  // the dense layer's MLP 3 x 64x16; attention 64x16 + 2 x 32x16 + 16x64 per
  // layer; the tied head 151936x16.
  const size_t attention = 3 * (64 * 16 + 2 * 32 * 16 + 16 * 64);
  const size_t moe = 2 * (8 * 16 + 2 * (16 * 64 + 32 * 16));
  const size_t dense = 3 * 64 * 16;
  EXPECT_EQ(dec.decoder.weight_bytes(), 2 * (attention + moe + dense + size_t(151936) * 16));
  // Usage statistics (kept in the workspace) count every routed token.
  MoeCase c("case1_text");
  KVCache cache = dec.make_cache(32);
  dec.forward(c.prompt(), cache);
  for (int layer : {0, 2}) {
    int64_t sum = 0;
    for (int64_t u : dec.workspace.expert_usage()[layer]) sum += u;
    EXPECT_EQ(sum, static_cast<int64_t>(c.ids.size()) * 2) << layer;
  }
  EXPECT_TRUE(dec.workspace.expert_usage()[1].empty());
  // The golden's per-expert prefill counts for layer 0.
  const Json summary = load_json_file(kMoe + "/golden/case1_text.json");
  EXPECT_EQ(Json(dec.workspace.expert_usage()[0]), summary["routing"]["0"]["expert_use_prefill"]);
}

// bench's expert usage: the prompt's spread over the experts (the golden's
// per-expert counts) and, per decode step, exactly top_k distinct experts
// per MoE layer for one sequence, with their bytes.
TEST(MoeDecoder, ExpertUsageStatsCountWhatEachStepRead) {
  MoeCase c("case1_text");
  Checkpoint ckpt(kMoe);
  DecoderRun dec(c.config, ckpt);
  KVCache cache = dec.make_cache(static_cast<int64_t>(c.ids.size()) + 8);
  int32_t token = argmax(dec.forward(c.prompt(), cache));
  ExpertUsageStats stats(dec.decoder);
  ASSERT_TRUE(stats.active());
  stats.take_prefill(dec.workspace);
  EXPECT_TRUE(dec.workspace.expert_usage().empty());
  constexpr int kSteps = 4;
  for (int step = 0; step < kSteps; ++step) {
    const int32_t pos = static_cast<int32_t>(cache.size()) + c.rope_delta;
    DecoderInput in;
    in.ids = std::span<const int32_t>(&token, 1);
    for (int a = 0; a < 3; ++a) in.positions[a] = std::span<const int32_t>(&pos, 1);
    token = argmax(dec.forward(in, cache));
    stats.take_decode_step(dec.workspace);
  }
  const Json s = stats.summary();
  const MoeMlp& moe = *dec.decoder.moe_layer(0);
  EXPECT_EQ(dec.decoder.moe_layer(1), nullptr);  // the fixture's dense layer
  const size_t expert_bytes = moe.gate_up(0).bytes() + moe.down(0).bytes();
  EXPECT_EQ(s["moe_layers"], 2);
  EXPECT_EQ(s["experts"], moe.num_experts());
  EXPECT_EQ(s["top_k"], moe.top_k());
  EXPECT_EQ(s["expert_bytes"], expert_bytes);
  const Json& d = s["decode"];
  EXPECT_EQ(d["steps"], kSteps);
  for (const char* k : {"min", "mean", "max"}) {
    EXPECT_EQ(d["distinct_experts_per_layer_step"][k].get<double>(), moe.top_k()) << k;
    EXPECT_EQ(d["expert_bytes_per_step"][k].get<double>(), 2.0 * moe.top_k() * expert_bytes) << k;
  }
  const double run_min = d["distinct_experts_per_layer_run"]["min"], run_max = d["distinct_experts_per_layer_run"]["max"];
  EXPECT_GE(run_min, moe.top_k());
  EXPECT_LE(run_max, moe.num_experts());
  // The prompt: the golden's per-expert counts of layers 0 and 2.
  const Json golden = load_json_file(kMoe + "/golden/case1_text.json")["routing"];
  int64_t most = 0, total = 0;
  double fewest_distinct = 1e9, most_distinct = 0;
  for (const char* layer : {"0", "2"}) {
    int distinct = 0;
    for (const Json& n : golden[layer]["expert_use_prefill"]) {
      most = std::max(most, n.get<int64_t>());
      total += n.get<int64_t>();
      distinct += n.get<int64_t>() > 0;
    }
    fewest_distinct = std::min<double>(fewest_distinct, distinct);
    most_distinct = std::max<double>(most_distinct, distinct);
  }
  const Json& p = s["prefill"];
  EXPECT_EQ(p["tokens_per_expert_max"], most);
  EXPECT_DOUBLE_EQ(p["tokens_per_expert_mean"].get<double>(), double(total) / (2.0 * moe.num_experts()));
  EXPECT_EQ(p["distinct_experts_per_layer"]["min"].get<double>(), fewest_distinct);
  EXPECT_EQ(p["distinct_experts_per_layer"]["max"].get<double>(), most_distinct);
}

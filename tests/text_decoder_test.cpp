#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/json.h"
#include "qwen3vl/io/checkpoint.h"
#include "qwen3vl/io/safetensors.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/model/tensor_specs.h"
#include "qwen3vl/model/text_decoder.h"
#include "qwen3vl/weights/weight_loading.h"
#include "qwen3vl/kernels/quant.h"
#include "golden_decoder_case.h"
#include "test_pool.h"

using namespace qwen3vl;

namespace {

const std::string kFixture = QWEN3VL_FIXTURE_DIR;

float max_abs_diff(const float* a, const float* b, size_t n) {
  float m = 0.0f;
  for (size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

int32_t argmax(std::span<const float> v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

using qwen3vl::testing::DecoderRun;

struct Case : qwen3vl::testing::GoldenDecoderCase {
  explicit Case(const std::string& name) : GoldenDecoderCase(kFixture, name) {}
};

// Greedy decoding after a prefill whose last logits are `last`: each step
// feeds the previous token at position cache_size + rope_delta on all axes.
std::vector<int32_t> greedy_continue(DecoderRun& dec, KVCache& cache, std::span<const float> last,
                                     int32_t rope_delta, size_t steps) {
  std::vector<int32_t> out;
  int32_t token = argmax(last);
  out.push_back(token);
  while (out.size() < steps) {
    const int32_t pos = static_cast<int32_t>(cache.size()) + rope_delta;
    DecoderInput in;
    in.ids = std::span<const int32_t>(&token, 1);
    for (int a = 0; a < 3; ++a) in.positions[a] = std::span<const int32_t>(&pos, 1);
    token = argmax(dec.forward(in, cache));
    out.push_back(token);
  }
  return out;
}

void check_case(const std::string& name) {
  Case c(name);
  Checkpoint ckpt(kFixture);
  DecoderRun dec(c.config, ckpt);
  std::map<std::string, std::vector<float>> captured;
  TensorSink sink;
  sink.f32 = [&](const std::string& n, const std::vector<int64_t>& shape, const float* d) {
    captured[n].assign(d, d + shape[0] * shape[1]);
  };
  dec.capture = &sink;
  KVCache cache = dec.make_cache(static_cast<int64_t>(c.ids.size() + c.generated.size()));
  std::span<const float> logits = dec.forward(c.chunk(0, c.ids.size()), cache);
  ASSERT_EQ(cache.size(), static_cast<int64_t>(c.ids.size()));

  for (const char* t : {"text_rope_cos", "text_rope_sin"}) {
    const auto want = c.golden.get(t).to_f32();
    ASSERT_EQ(captured[t].size(), want.size()) << t;
    EXPECT_LE(max_abs_diff(captured[t].data(), want.data(), want.size()), 1e-5f) << name << " " << t;
  }
  for (int i = 0; i < c.config.text.num_layers; ++i) {
    const std::string t = "text_layer" + std::to_string(i) + "_out";
    const auto want = c.golden.get(t).to_f32();
    ASSERT_EQ(captured[t].size(), want.size()) << t;
    EXPECT_LE(max_abs_diff(captured[t].data(), want.data(), want.size()), 1e-3f) << name << " " << t;
  }
  const auto want_logits = c.golden.get("logits_last").to_f32();
  ASSERT_EQ(logits.size(), want_logits.size());
  EXPECT_LE(max_abs_diff(logits.data(), want_logits.data(), want_logits.size()), 1e-3f) << name;

  dec.capture = nullptr;
  const std::vector<int32_t> got = greedy_continue(dec, cache, logits, c.rope_delta, c.generated.size());
  EXPECT_EQ(got, c.generated) << name;
}

}  // namespace

TEST(TextDecoder, Case1TextMatchesGolden) { check_case("case1_text"); }

TEST(TextDecoder, Case2OneImageWithGoldenVisualEmbeddings) { check_case("case2_one_image"); }

TEST(TextDecoder, Case3TwoImagesWithGoldenVisualEmbeddings) { check_case("case3_two_images"); }

TEST(TextDecoder, AllRowLogitsForLeadingColumns) {
  Case c("case1_text");
  Checkpoint ckpt(kFixture);
  DecoderRun dec(c.config, ckpt);
  KVCache cache = dec.make_cache(64);
  LogitsRequest req;
  req.all_rows = true;
  req.columns = 256;
  std::span<const float> logits = dec.forward(c.chunk(0, c.ids.size()), cache, req);
  const auto want = c.golden.get("logits_first256").to_f32();
  ASSERT_EQ(logits.size(), want.size());
  EXPECT_LE(max_abs_diff(logits.data(), want.data(), want.size()), 1e-3f);
}

TEST(TextDecoder, ChunkedPrefillEqualsOneChunk) {
  for (const char* name : {"case1_text", "case2_one_image"}) {
    Case c(name);
    Checkpoint ckpt(kFixture);
    DecoderRun dec(c.config, ckpt);
    KVCache a = dec.make_cache(256);
    const auto ref_span = dec.forward(c.chunk(0, c.ids.size()), a);
    const std::vector<float> ref(ref_span.begin(), ref_span.end());

    // Split points that cut through the image rows (case 2) as well as text.
    KVCache b = dec.make_cache(256);
    const size_t L = c.ids.size();
    const std::vector<size_t> cuts = {0, 5, L / 2, L / 2 + 1, L - 1, L};
    std::vector<float> last;
    for (size_t i = 0; i + 1 < cuts.size(); ++i) {
      const auto s = dec.forward(c.chunk(cuts[i], cuts[i + 1]), b);
      last.assign(s.begin(), s.end());
    }
    EXPECT_EQ(b.size(), static_cast<int64_t>(L));
    ASSERT_EQ(last.size(), ref.size());
    EXPECT_LE(max_abs_diff(last.data(), ref.data(), ref.size()), 1e-4f) << name;
  }
}

TEST(TextDecoder, TruncatedCacheRecomputesTheSameLogits) {
  Case c("case1_text");
  Checkpoint ckpt(kFixture);
  DecoderRun dec(c.config, ckpt);
  KVCache cache = dec.make_cache(64);
  const size_t L = c.ids.size();
  const auto s = dec.forward(c.chunk(0, L), cache);
  const std::vector<float> ref(s.begin(), s.end());
  // Keep a shared prefix, then recompute the tail: as a prompt cache would.
  cache.truncate(7);
  const auto t = dec.forward(c.chunk(7, L), cache);
  EXPECT_EQ(cache.size(), static_cast<int64_t>(L));
  EXPECT_LE(max_abs_diff(t.data(), ref.data(), ref.size()), 1e-4f);
  EXPECT_THROW(cache.truncate(L + 1), Error);
}

TEST(TextDecoder, FullCacheIsAClearErrorAndLeavesTheCacheIntact) {
  Case c("case1_text");
  Checkpoint ckpt(kFixture);
  DecoderRun dec(c.config, ckpt);
  KVCache cache = dec.make_cache(static_cast<int64_t>(c.ids.size()) - 1);
  try {
    dec.forward(c.chunk(0, c.ids.size()), cache);
    FAIL() << "expected the context-full error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("context"), std::string::npos) << e.what();
  }
  EXPECT_EQ(cache.size(), 0);
}

TEST(TextDecoder, RejectsBadInputs) {
  Case c("case1_text");
  Checkpoint ckpt(kFixture);
  DecoderRun dec(c.config, ckpt);
  KVCache cache = dec.make_cache(64);
  std::vector<int32_t> bad_ids = {1, 2, 151936};
  std::vector<int32_t> pos = {0, 1, 2};
  DecoderInput in;
  in.ids = bad_ids;
  for (int a = 0; a < 3; ++a) in.positions[a] = pos;
  EXPECT_THROW(dec.forward(in, cache), Error);
  bad_ids[2] = 3;
  in.positions[1] = std::span<const int32_t>(pos).first(2);
  EXPECT_THROW(dec.forward(in, cache), Error);
  EXPECT_EQ(cache.size(), 0);
}

TEST(WeightLoading, ViewsAndConversionsAndErrors) {
  Checkpoint ckpt(kFixture);
  const ModelTensorSpecs specs = qwen3vl_tensor_specs(load_model_config(kFixture + "/config.json"));
  const TensorSpec& gate = specs.text.layers[0].mlp->gate_proj.weight;
  const std::string name = "model.language_model.layers.0.mlp.gate_proj.weight";
  ASSERT_EQ(gate.name, name);
  const WeightMatrix view = stored_matrix(ckpt, gate);
  EXPECT_EQ(view.format, WeightFormat::BF16);
  EXPECT_EQ(view.rows, 128);
  EXPECT_EQ(view.cols, 48);
  EXPECT_EQ(view.data, ckpt.get(name).data);  // zero-copy
  EXPECT_EQ(view.owner, nullptr);

  WeightOptions opt;
  opt.mlp = WeightFormat::F32;
  const WeightMatrix f32 = load_matrix(ckpt, gate, opt);
  EXPECT_EQ(f32.format, WeightFormat::F32);
  const auto want = ckpt.get(name).to_f32();
  EXPECT_EQ(max_abs_diff(static_cast<const float*>(f32.data), want.data(), want.size()), 0.0f);
  // Attention is not affected by the MLP option.
  EXPECT_EQ(load_matrix(ckpt, specs.text.layers[0].o_proj.weight, opt).format, WeightFormat::BF16);
  // A 5-D convolution kernel is viewed as [out, product of the rest].
  const WeightMatrix conv = stored_matrix(ckpt, specs.vision.patch_embed.weight);
  EXPECT_EQ(conv.rows, 32);
  EXPECT_EQ(conv.cols, 3 * 2 * 16 * 16);

  // Quantized targets go through the hook; without one they are an error.
  opt.mlp = WeightFormat::Q8;
  EXPECT_THROW(load_matrix(ckpt, gate, opt), Error);
  int calls = 0;
  opt.convert = [&](const WeightMatrix& w, WeightFormat target, const std::string& n) {
    ++calls;
    EXPECT_EQ(target, WeightFormat::Q8);
    EXPECT_EQ(n, name);
    return w;  // stand-in: the test only checks the hook is used
  };
  load_matrix(ckpt, gate, opt);
  EXPECT_EQ(calls, 1);

  TensorSpec transposed = gate;
  transposed.shape = {48, 128};
  try {
    stored_matrix(ckpt, transposed);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(name), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("model.safetensors"), std::string::npos);
  }
  TensorSpec norm = specs.text.norm.weight;
  EXPECT_EQ(load_vector(ckpt, norm).size(), 48u);
  norm.shape = {47};
  EXPECT_THROW(load_vector(ckpt, norm), Error);
  // An absent optional tensor (a bias the config switches off) loads as empty.
  EXPECT_FALSE(specs.text.layers[0].q_proj.bias.has_value());
  EXPECT_TRUE(load_vector(ckpt, specs.text.layers[0].q_proj.bias).empty());
}

TEST(TextDecoder, F32WeightsGiveTheSameLogits) {
  Case c("case1_text");
  Checkpoint ckpt(kFixture);
  DecoderRun stored(c.config, ckpt);
  DecoderOptions opt;
  opt.weights.embedding_head = opt.weights.attention = opt.weights.mlp = WeightFormat::F32;
  DecoderRun widened(c.config, ckpt, opt);
  KVCache a = stored.make_cache(32), b = widened.make_cache(32);
  const auto s = stored.forward(c.chunk(0, c.ids.size()), a);
  const std::vector<float> ref(s.begin(), s.end());
  const auto t = widened.forward(c.chunk(0, c.ids.size()), b);
  EXPECT_LE(max_abs_diff(t.data(), ref.data(), ref.size()), 1e-5f);
}

TEST(TextDecoder, UntiedHeadIsLoadedFromLmHead) {
  // Rebuild the fixture as an untied checkpoint whose lm_head is the embedding
  // scaled by 2: logits must double. Without lm_head.weight loading must fail.
  namespace fs = std::filesystem;
  const std::string dir = ::testing::TempDir() + "/untied_qwen3vl";
  fs::create_directories(dir);
  Json j = load_json_file(kFixture + "/config.json");
  j["tie_word_embeddings"] = false;
  j["text_config"]["tie_word_embeddings"] = false;
  std::ofstream(dir + "/config.json") << j.dump();
  const ModelConfig untied = parse_model_config(j, "untied config");
  SafetensorsFile src(kFixture + "/model.safetensors");
  auto write = [&](bool with_head) {
    SafetensorsWriter w;
    for (const auto& [name, t] : src.tensors())
      if (name.rfind("model.language_model.", 0) == 0) w.add(name, t.dtype, t.shape, t.data, t.nbytes);
    if (with_head) {
      std::vector<float> head = src.get("model.language_model.embed_tokens.weight").to_f32();
      for (float& x : head) x *= 2.0f;
      w.add_f32("lm_head.weight", src.get("model.language_model.embed_tokens.weight").shape, head);
    }
    w.write(dir + "/model.safetensors");
  };

  write(false);
  try {
    Checkpoint ckpt(dir);
    DecoderRun dec(untied, ckpt);
    FAIL() << "expected a missing lm_head.weight error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("lm_head.weight"), std::string::npos) << e.what();
  }

  write(true);
  Case c("case1_text");
  Checkpoint ckpt(dir);
  DecoderRun dec(untied, ckpt);
  KVCache cache = dec.make_cache(32);
  const auto logits = dec.forward(c.chunk(0, c.ids.size()), cache);
  const auto want = c.golden.get("logits_last").to_f32();
  float worst = 0.0f;
  for (size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::fabs(logits[i] - 2.0f * want[i]));
  EXPECT_LE(worst, 2e-3f);
  fs::remove_all(dir);
}

// ---------------------------------------------------------------- KV cache types

namespace {

struct CacheTypeRun {
  std::vector<float> prefill_logits;             // last prompt row
  std::vector<std::vector<float>> step_logits;   // each greedy decode step
  std::vector<int32_t> ids;
};

// Prefill + greedy decode of a golden case with a cache of `type`. With
// `forced` non-empty the given tokens are fed instead of the argmax, so two
// runs see the same inputs and their logits can be compared step by step.
CacheTypeRun run_with_cache(const std::string& name, KVCacheType type, const std::vector<int32_t>& forced = {}) {
  Case c(name);
  Checkpoint ckpt(kFixture);
  DecoderRun dec(c.config, ckpt);
  KVCache cache = dec.make_cache(static_cast<int64_t>(c.ids.size() + c.generated.size()), type);
  EXPECT_EQ(cache.type(), type);
  CacheTypeRun r;
  const auto first = dec.forward(c.chunk(0, c.ids.size()), cache);
  r.prefill_logits.assign(first.begin(), first.end());
  int32_t token = argmax(first);
  r.ids.push_back(token);
  while (r.ids.size() < c.generated.size()) {
    if (!forced.empty()) token = forced[r.ids.size() - 1];
    const int32_t pos = static_cast<int32_t>(cache.size()) + c.rope_delta;
    DecoderInput in;
    in.ids = std::span<const int32_t>(&token, 1);
    for (int a = 0; a < 3; ++a) in.positions[a] = std::span<const int32_t>(&pos, 1);
    const auto logits = dec.forward(in, cache);
    r.step_logits.emplace_back(logits.begin(), logits.end());
    token = argmax(logits);
    r.ids.push_back(token);
  }
  return r;
}

// Largest |logit difference| to the f32-cache run over prefill and every step.
float max_logit_diff(const CacheTypeRun& a, const CacheTypeRun& b) {
  float m = max_abs_diff(a.prefill_logits.data(), b.prefill_logits.data(), a.prefill_logits.size());
  for (size_t s = 0; s < a.step_logits.size() && s < b.step_logits.size(); ++s)
    m = std::max(m, max_abs_diff(a.step_logits[s].data(), b.step_logits[s].data(), a.step_logits[s].size()));
  return m;
}

}  // namespace

TEST(KVCacheTypes, NamesAndSizes) {
  EXPECT_EQ(parse_kv_cache_type("f16"), KVCacheType::F16);
  EXPECT_EQ(parse_kv_cache_type("bf16"), KVCacheType::BF16);
  EXPECT_EQ(parse_kv_cache_type("q8"), KVCacheType::Q8);
  EXPECT_EQ(parse_kv_cache_type("int8"), KVCacheType::Q8);
  EXPECT_EQ(parse_kv_cache_type("f32"), KVCacheType::F32);
  EXPECT_THROW(parse_kv_cache_type("f8"), Error);
  for (KVCacheType t : {KVCacheType::F32, KVCacheType::F16, KVCacheType::BF16, KVCacheType::Q8})
    EXPECT_EQ(parse_kv_cache_type(kv_cache_type_name(t)), t);
  const size_t elements = size_t(36) * 2 * 512 * 1024;
  EXPECT_EQ(KVCache(36, 8, 128, 512, KVCacheType::F32).bytes(), elements * 4);
  EXPECT_EQ(KVCache(36, 8, 128, 512, KVCacheType::F16).bytes(), elements * 2);
  EXPECT_EQ(KVCache(36, 8, 128, 512, KVCacheType::BF16).bytes(), elements * 2);
  // int8 values plus one float scale per 32 of them.
  EXPECT_EQ(KVCache(36, 8, 128, 512, KVCacheType::Q8).bytes(), elements + elements / 32 * 4);
}

// The f32 cache is the exact path (the golden tests above use it). A f16
// cache rounds keys and values to 11 significant bits; it must still produce
// the golden greedy ids of every case. Its logits (magnitude ~10) stay within
// 0.06 of the f32 cache's when fed the same tokens (measured 0.033 / 0.009 /
// 0.016 for cases 1-3: this random-weight fixture amplifies rounding through
// ×2 q/k norms and a ×6 final norm).
TEST(KVCacheTypes, F16CacheKeepsGoldenGreedyIds) {
  for (const char* name : {"case1_text", "case2_one_image", "case3_two_images"}) {
    const CacheTypeRun exact = run_with_cache(name, KVCacheType::F32);
    const CacheTypeRun half = run_with_cache(name, KVCacheType::F16, exact.ids);
    Case c(name);
    EXPECT_EQ(half.ids, c.generated) << name;
    EXPECT_LE(max_logit_diff(half, exact), 0.06f) << name;
  }
}

// bf16 (8 significant bits) and int8 (per-32 scale) caches: stated bounds on
// the logits relative to the f32 cache, fed the same tokens (measured max
// |diff| bf16 0.21 / 0.19 / 0.13, int8 0.53 / 0.25 / 0.57 for cases 1-3,
// with logits ~10), and the cosine of the logit vectors stays near 1
// (measured >= 0.9997). Unlike f16 they do flip greedy tokens where the
// golden top1-top2 margin is small (case 1 step 3: 0.046; case 3: 0.0033).
TEST(KVCacheTypes, Bf16AndInt8CachesStayWithinStatedBounds) {
  for (const char* name : {"case1_text", "case2_one_image", "case3_two_images"}) {
    const CacheTypeRun exact = run_with_cache(name, KVCacheType::F32);
    const CacheTypeRun bf16 = run_with_cache(name, KVCacheType::BF16, exact.ids);
    const CacheTypeRun q8 = run_with_cache(name, KVCacheType::Q8, exact.ids);
    EXPECT_LE(max_logit_diff(bf16, exact), 0.4f) << name;
    EXPECT_LE(max_logit_diff(q8, exact), 1.0f) << name;
    for (const CacheTypeRun* r : {&bf16, &q8}) {
      double ab = 0, aa = 0, bb = 0;
      for (size_t e = 0; e < exact.prefill_logits.size(); ++e) {
        ab += double(exact.prefill_logits[e]) * r->prefill_logits[e];
        aa += double(exact.prefill_logits[e]) * exact.prefill_logits[e];
        bb += double(r->prefill_logits[e]) * r->prefill_logits[e];
      }
      EXPECT_GE(ab / std::sqrt(aa * bb), 0.999) << name;
    }
  }
}

// ---------------------------------------------------------------- LM head precision

namespace {

// Top-1 agreement with the f32 decoder over every prompt row of cases 1-3
// when only the (tied) embedding/head is stored as `head`.
double head_top1_agreement(WeightFormat head) {
  int64_t rows = 0, same = 0;
  Checkpoint ckpt(kFixture);
  const ModelConfig config = load_model_config(kFixture + "/config.json");
  DecoderRun exact(config, ckpt);
  DecoderOptions opt;
  opt.weights.embedding_head = head;
  opt.weights.convert = [](const WeightMatrix& w, WeightFormat target, const std::string&) {
    return quantize_weight(w, target);
  };
  DecoderRun quantized(config, ckpt, opt);
  for (const char* name : {"case1_text", "case2_one_image", "case3_two_images"}) {
    Case c(name);
    LogitsRequest all;
    all.all_rows = true;
    const int64_t ctx = static_cast<int64_t>(c.ids.size());
    KVCache a = exact.make_cache(ctx), b = quantized.make_cache(ctx);
    const auto ea = exact.forward(c.chunk(0, c.ids.size()), a, all);
    const std::vector<float> want(ea.begin(), ea.end());
    const auto got = quantized.forward(c.chunk(0, c.ids.size()), b, all);
    const size_t V = static_cast<size_t>(c.config.text.vocab_size);
    for (size_t r = 0; r < c.ids.size(); ++r, ++rows)
      same += argmax(std::span<const float>(want).subspan(r * V, V)) == argmax(got.subspan(r * V, V));
  }
  return static_cast<double>(same) / static_cast<double>(rows);
}

}  // namespace

// Why the q4 preset keeps the (tied) embedding/head in q8: over the 65
// prompt rows of cases 1-3, with only the embedding/head quantized, a q8 head
// agrees with the f32 top-1 on 95.4% of rows, a q4 head on 52.3% (measured
// once; the fixture's hidden size of 48 makes every quantization error large
// relative to a 2560-wide model, but the ranking holds: the head's 152k rows
// compete for the argmax, so its per-row errors matter more than a hidden
// layer's). Only q8 is checked here, to keep the test fast.
TEST(TextDecoder, HeadPrecisionTop1Agreement) {
  EXPECT_GE(head_top1_agreement(WeightFormat::Q8), 0.93);
}

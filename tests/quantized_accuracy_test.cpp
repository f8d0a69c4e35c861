// Reduced-precision paths judged against our own float32 path on the same
// inputs. First end to end through the Session API on the goldens' three
// prompts (text and images): cosine and relative error of the last logits,
// where f32's top token ranks, top-1 agreement and how many greedy steps
// agree. The tiny fixture's random weights make logits unusually sensitive
// (norm weights up to x6), so these bounds are loose for what real
// checkpoints see. Then the text decoder alone at realistic widths, for
// every weight format and KV cache type. Every bound is a measured value
// (stated beside it) with a margin.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <span>

#include "qwen3vl/io/checkpoint.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/model/random_checkpoint.h"
#include "qwen3vl/model/text_decoder.h"
#include "qwen3vl/qwen3vl.h"
#include "qwen3vl/weights/weight_formats.h"
#include "test_pool.h"

using namespace qwen3vl;

static const std::string kFixture = QWEN3VL_FIXTURE_DIR;
static const std::string kGolden = kFixture + "/golden";

namespace {

struct CaseRun {
  std::vector<float> logits_last;
  std::vector<int32_t> ids;
};

Json golden_messages(const std::string& c) {
  Json m = load_json_file(kGolden + "/" + c + ".json")["messages"];
  for (auto& msg : m)
    if (msg["content"].is_array())
      for (auto& part : msg["content"])
        if (part.contains("image")) part["image"] = kGolden + "/" + part["image"].get<std::string>();
  return m;
}

CaseRun run_case(const std::shared_ptr<Model>& model, const std::string& c) {
  Session s(model);
  CaseRun r;
  TensorCapture cap;
  cap.f32 = [&](const std::string& name, const std::vector<int64_t>&, const float* data) {
    if (name == "logits_last") r.logits_last.assign(data, data + model->config().text.vocab_size);
  };
  GenerateOptions o;
  o.max_tokens = 12;
  o.sampling.temperature = 0.0f;
  r.ids = s.generate(golden_messages(c), o, {}, &cap).output_ids;
  return r;
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) ab += double(a[i]) * b[i], aa += double(a[i]) * a[i], bb += double(b[i]) * b[i];
  return ab / std::sqrt(aa * bb);
}

size_t argmax(const std::vector<float>& v) { return std::max_element(v.begin(), v.end()) - v.begin(); }

// ||got - want|| / ||want||.
double relative_rms(const std::vector<float>& got, const std::vector<float>& want) {
  double err = 0, ref = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    err += (double(got[i]) - want[i]) * (double(got[i]) - want[i]);
    ref += double(want[i]) * want[i];
  }
  return std::sqrt(err / ref);
}

// Where `want`'s top token ranks in `got` (0: also got's top token).
size_t rank_of_top(const std::vector<float>& got, const std::vector<float>& want) {
  const float score = got[argmax(want)];
  return static_cast<size_t>(std::count_if(got.begin(), got.end(), [&](float v) { return v > score; }));
}

size_t greedy_prefix(const std::vector<int32_t>& got, const std::vector<int32_t>& want) {
  return static_cast<size_t>(std::mismatch(got.begin(), got.end(), want.begin(), want.end()).first - got.begin());
}

struct Bound {
  const char* quant;
  double min_cosine;        // of logits_last, every case
  double max_rel_rms;       // of logits_last, every case
  size_t max_rank;          // of f32's top token among the format's logits, every case
  int min_top1_cases;       // of 3 cases, last-row argmax equal to f32's
  size_t min_greedy_steps;  // greedy steps equal to f32's before the first difference, summed over the cases
};

}  // namespace

TEST(QuantizedAccuracy, EveryFormatStaysCloseToFloat32) {
  const auto exact = Model::load(kFixture);
  std::map<std::string, CaseRun> reference;
  for (const std::string c : {"case1_text", "case2_one_image", "case3_two_images"}) reference[c] = run_case(exact, c);
  // Measured (this fixture, AVX-512 and AVX2 builds; printed below):
  //   bf16 (f16 KV cache): cosine 1.00000, relative rms 0.0007-0.0019, f32's top token first, 12/12 greedy
  //        steps in every case;
  //   q8: cosine 0.9937-0.9988, relative rms 0.049-0.113, f32's top token ranked 0, 0, 1 (2 of 3 top-1),
  //       greedy steps 0 + 12 + 1..2 = 13-14;
  //   q4: cosine 0.732-0.903, relative rms 0.44-0.72, f32's top token ranked 4-92 of 151936, no top-1 and
  //       no greedy step agree (int4 on 48-wide rows of uniform random weights, amplified by the x6 final
  //       norm), so top-1 and greedy agreement are not judged for q4 here (0): the rank bound is, and the
  //       decoder-level test below judges q4 at realistic widths.
  // Bounds: those values with a margin for kernels that round differently.
  for (const Bound& b : {Bound{"bf16", 0.9999, 0.005, 0, 3, 36}, Bound{"q8", 0.99, 0.15, 1, 2, 10},
                         Bound{"q4", 0.7, 0.9, 200, 0, 0}}) {
    LoadOptions lo;
    lo.weights = b.quant;
    const auto model = Model::load(kFixture, lo);
    int top1 = 0;
    size_t steps = 0;
    for (const auto& [c, ref] : reference) {
      const CaseRun q = run_case(model, c);
      const double cs = cosine(q.logits_last, ref.logits_last), rms = relative_rms(q.logits_last, ref.logits_last);
      const size_t rank = rank_of_top(q.logits_last, ref.logits_last), prefix = greedy_prefix(q.ids, ref.ids);
      std::printf("%s %s: cosine %.5f, relative rms %.4f, rank of f32's top token %zu, greedy prefix %zu/12\n",
                  b.quant, c.c_str(), cs, rms, rank, prefix);
      EXPECT_GE(cs, b.min_cosine) << b.quant << " " << c;
      EXPECT_LE(rms, b.max_rel_rms) << b.quant << " " << c;
      EXPECT_LE(rank, b.max_rank) << b.quant << " " << c;
      top1 += rank == 0;
      steps += prefix;
    }
    EXPECT_GE(top1, b.min_top1_cases) << b.quant;
    EXPECT_GE(steps, b.min_greedy_steps) << b.quant;
  }
}

// The text decoder alone, at realistic widths: the tiny fixture's 48-wide
// rows hold one and a half int4 groups, so its error says little about a real
// model. This decoder has 512-wide hidden rows and 1536-wide MLP rows (3
// layers, GQA 8/4 heads of 64, random weights as make-random-model writes
// them, vocabulary 4096) and compares every weight format and KV cache type
// with float32 weights and cache over a 32-token prefill and 16 decode
// steps fed the same tokens.
namespace {

struct Agreement {
  double min_cosine = 1;   // over every compared row of logits
  double max_rel_rms = 0;  // ||q - f|| / ||f|| per row, worst row
  double top1 = 0;         // fraction of rows whose argmax matches
};

Agreement compare_rows(const std::vector<std::vector<float>>& got, const std::vector<std::vector<float>>& want) {
  Agreement a;
  int same = 0;
  for (size_t r = 0; r < want.size(); ++r) {
    a.min_cosine = std::min(a.min_cosine, cosine(got[r], want[r]));
    double err = 0, ref = 0;
    for (size_t i = 0; i < want[r].size(); ++i) {
      err += (double(got[r][i]) - want[r][i]) * (double(got[r][i]) - want[r][i]);
      ref += double(want[r][i]) * want[r][i];
    }
    a.max_rel_rms = std::max(a.max_rel_rms, std::sqrt(err / ref));
    same += argmax(got[r]) == argmax(want[r]);
  }
  a.top1 = double(same) / double(want.size());
  return a;
}

class DecoderAccuracy : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (std::filesystem::path(::testing::TempDir()) / "qwen3vl_decoder_accuracy").string();
    Json config = load_json_file(kFixture + "/config.json");
    Json& t = config["text_config"];
    t["hidden_size"] = 512;
    t["intermediate_size"] = 1536;
    t["num_hidden_layers"] = 3;
    t["num_attention_heads"] = 8;
    t["num_key_value_heads"] = 4;
    t["head_dim"] = 64;
    t["vocab_size"] = 4096;
    // The special token ids must lie inside the smaller vocabulary (the config loader refuses others).
    config["vision_start_token_id"] = 4092;
    config["vision_end_token_id"] = 4093;
    config["image_token_id"] = 4094;
    config["video_token_id"] = 4095;
    t["rope_scaling"]["mrope_section"] = {12, 10, 10};
    config["vision_config"]["depth"] = 1;
    config["vision_config"]["deepstack_visual_indexes"] = Json::array();
    config["vision_config"]["out_hidden_size"] = 512;
    RandomCheckpointOptions o;
    o.threads = 2;
    write_random_checkpoint(config, dir_, o);
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  // Logits of every prefill row, then of each decode step.
  static std::vector<std::vector<float>> run(const std::string& quant, KVCacheType cache_type) {
    ThreadPool& pool = qwen3vl::testing::test_pool();
    const ModelConfig config = load_model_config(dir_ + "/config.json");
    const Checkpoint ckpt(dir_);
    DecoderOptions opts;
    opts.weights = weight_options_from_name(quant, pool);
    const TextDecoder dec(config, ckpt, opts);
    DecoderWorkspace workspace;
    std::mt19937 rng(7);
    std::vector<int32_t> ids(kPrefill + kDecode);
    for (int32_t& id : ids) id = static_cast<int32_t>(rng() % 4096);
    std::vector<int32_t> pos(ids.size());
    for (size_t i = 0; i < pos.size(); ++i) pos[i] = static_cast<int32_t>(i);
    KVCache cache = dec.make_cache(kPrefill + kDecode, cache_type);
    std::vector<std::vector<float>> rows;
    auto step = [&](size_t first, size_t count, bool all_rows) {
      DecoderInput in;
      in.ids = std::span<const int32_t>(ids).subspan(first, count);
      for (auto& p : in.positions) p = std::span<const int32_t>(pos).subspan(first, count);
      LogitsRequest req;
      req.all_rows = all_rows;
      const std::span<const float> logits = dec.forward(in, cache, workspace, ForwardContext{pool}, req);
      const size_t vocab = static_cast<size_t>(dec.vocab_size());
      for (size_t r = 0; r < logits.size() / vocab; ++r)
        rows.emplace_back(logits.begin() + r * vocab, logits.begin() + (r + 1) * vocab);
    };
    step(0, kPrefill, true);
    for (int i = 0; i < kDecode; ++i) step(kPrefill + i, 1, false);
    return rows;
  }

  static constexpr int kPrefill = 32, kDecode = 16;
  static std::string dir_;
};

std::string DecoderAccuracy::dir_;

}  // namespace

TEST_F(DecoderAccuracy, EveryFormatAndCacheTypeStaysCloseToFloat32) {
  const auto reference = run("auto", KVCacheType::F32);
  ASSERT_EQ(reference.size(), size_t(kPrefill + kDecode));
  struct Case {
    const char* weights;
    KVCacheType cache;
    const char* cache_name;
    double min_cosine, max_rel_rms, min_top1;
  };
  // Measured over the 48 rows (AVX-512, AVX2 and scalar builds agree to 3 digits):
  //   bf16 weights: identical to f32 (the checkpoint is bf16 already and the products are taken in f32);
  //   q8 weights:  min cosine 0.99964, worst relative rms 0.027, top-1 0.917;
  //   q4 weights:  min cosine 0.9652,  worst relative rms 0.264, top-1 0.54-0.58 (random weights give
  //                flat logits whose near-ties flip under int4 noise; real models are far more peaked);
  //   f16 cache:   min cosine 0.9999999, worst relative rms 4.9e-4, top-1 1;
  //   bf16 cache:  min cosine 0.999993,  worst relative rms 0.0038, top-1 1;
  //   q8 cache:    min cosine 0.99991,   worst relative rms 0.0134, top-1 0.958.
  const Case cases[] = {
      {"bf16", KVCacheType::F32, "f32", 0.999999, 1e-5, 1.0},  {"q8", KVCacheType::F32, "f32", 0.999, 0.04, 0.85},
      {"q4", KVCacheType::F32, "f32", 0.95, 0.33, 0.45},       {"auto", KVCacheType::F16, "f16", 0.99999, 1e-3, 0.95},
      {"auto", KVCacheType::BF16, "bf16", 0.99995, 0.006, 0.95}, {"auto", KVCacheType::Q8, "q8", 0.9997, 0.02, 0.9},
  };
  for (const Case& c : cases) {
    const Agreement a = compare_rows(run(c.weights, c.cache), reference);
    std::printf("weights %s, cache %s: min cosine %.7f, worst relative rms %.3g, top-1 %.3f\n", c.weights,
                c.cache_name, a.min_cosine, a.max_rel_rms, a.top1);
    EXPECT_GE(a.min_cosine, c.min_cosine) << c.weights << " / " << c.cache_name;
    EXPECT_LE(a.max_rel_rms, c.max_rel_rms) << c.weights << " / " << c.cache_name;
    EXPECT_GE(a.top1, c.min_top1) << c.weights << " / " << c.cache_name;
    // ... and the quantized weights are really in use (not silently as stored).
    if (std::string(c.weights) == "q8" || std::string(c.weights) == "q4")
      EXPECT_GT(a.max_rel_rms, c.max_rel_rms / 10) << c.weights;
  }
}

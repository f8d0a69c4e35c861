// A checkpoint with `attention_bias: true` (q/k/v/o projection biases, which
// no published Qwen3-VL size uses but the architecture allows) through every
// consumer of the tensor specs: loading, generation, `quantize` and
// make-random-model. The checkpoints are the tiny fixture plus bias tensors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/json.h"
#include "qwen3vl/io/checkpoint.h"
#include "qwen3vl/io/safetensors.h"
#include "qwen3vl/io/safetensors_stream_writer.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/model/tensor_specs.h"
#include "qwen3vl/qwen3vl.h"
#include "qwen3vl/runtime/model_file.h"
#include "greedy_run_util.h"

using namespace qwen3vl;
namespace fs = std::filesystem;

namespace {

const std::string kFixture = QWEN3VL_FIXTURE_DIR;

// The values a bias tensor gets, by its name and element index.
using BiasValues = std::function<float(const std::string& name, int64_t i)>;

// Writes the fixture with attention_bias switched on to `dir`: its tensors
// unchanged, plus every attention bias the specs now list (F32, `values`),
// except those named in `omit`.
void write_biased_fixture(const std::string& dir, const BiasValues& values, const std::string& omit = "") {
  fs::create_directories(dir);
  for (const auto& entry : fs::directory_iterator(kFixture))
    if (entry.is_regular_file() && entry.path().filename() != "model.safetensors")
      fs::copy_file(entry.path(), dir / entry.path().filename(), fs::copy_options::overwrite_existing);
  Json config = load_json_file(kFixture + "/config.json");
  config["text_config"]["attention_bias"] = true;
  std::ofstream(dir + "/config.json") << config.dump(2);

  const Checkpoint source(kFixture);
  std::vector<SafetensorsStreamWriter::Entry> entries;
  std::vector<std::vector<float>> biases;
  for (const TensorSpec& spec : qwen3vl_tensor_specs(load_model_config(dir + "/config.json")).all()) {
    if (spec.name == omit) continue;
    if (source.has(spec.name)) {
      const TensorView& t = source.get(spec.name);
      entries.push_back({spec.name, t.dtype, t.shape, t.nbytes});
      biases.emplace_back();
    } else {
      std::vector<float> b(static_cast<size_t>(spec.numel()));
      for (size_t i = 0; i < b.size(); ++i) b[i] = values(spec.name, static_cast<int64_t>(i));
      entries.push_back({spec.name, DType::F32, spec.shape, b.size() * sizeof(float)});
      biases.push_back(std::move(b));
    }
  }
  SafetensorsStreamWriter out(dir + "/model.safetensors", entries, {{"format", "pt"}});
  for (size_t i = 0; i < entries.size(); ++i) {
    if (biases[i].empty()) {
      const TensorView& t = source.get(entries[i].name);
      out.write_next(entries[i].name, t.data, t.nbytes);
    } else {
      out.write_next(entries[i].name, biases[i].data(), entries[i].nbytes);
    }
  }
  out.commit();
}

// Greedy generation of a golden case with the model at `model_path`.
GreedyRun run(const std::string& model_path, const std::string& quant, const std::string& messages_file,
              int max_tokens) {
  LoadOptions lo;
  lo.weights = quant;
  return run_greedy(Model::load(model_path, lo), messages_file, max_tokens);
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

class AttentionBiasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / ("qwen3vl_attention_bias_" + std::to_string(::getpid()))).string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

}  // namespace

TEST_F(AttentionBiasTest, SpecsListTheBiasesOnlyWhenTheConfigAsks) {
  ModelConfig config = load_model_config(kFixture + "/config.json");
  const size_t without = qwen3vl_tensor_specs(config).all().size();
  config.text.attention_bias = true;
  const ModelTensorSpecs specs = qwen3vl_tensor_specs(config);
  EXPECT_EQ(specs.all().size(), without + 4 * size_t(config.text.num_layers));
  const TextLayerSpec& layer = specs.text.layers[1];
  ASSERT_TRUE(layer.k_proj.bias.has_value());
  EXPECT_EQ(layer.k_proj.bias->name, "model.language_model.layers.1.self_attn.k_proj.bias");
  EXPECT_EQ(layer.k_proj.bias->shape, std::vector<int64_t>{config.text.num_kv_heads * config.text.head_dim});
  EXPECT_EQ(layer.o_proj.bias->shape, std::vector<int64_t>{config.text.hidden_size});
  EXPECT_EQ(layer.o_proj.bias->kind, TensorKind::Bias);
  EXPECT_FALSE(layer.o_proj.bias->weight_class.has_value());  // never quantized
}

TEST_F(AttentionBiasTest, ZeroBiasesReproduceTheGoldenIds) {
  write_biased_fixture(dir_, [](const std::string&, int64_t) { return 0.0f; });
  EXPECT_EQ(run(dir_, "auto", "case1_text.json", 12).ids, golden_generated_ids("case1_text"));
  EXPECT_EQ(run(dir_, "auto", "case2_one_image.messages.json", 12).ids, golden_generated_ids("case2_one_image"));
}

// Attention weights sum to one, so a value bias b passes through attention
// unchanged: o_proj(attn + b) = o_proj(attn) + W_o b. A model with value
// biases b and no output bias therefore equals one with no value bias and
// output bias W_o b — which holds only if both biases are applied where the
// reference applies them.
TEST_F(AttentionBiasTest, ValueBiasEqualsOutputBiasThroughTheProjection) {
  auto value_bias = [](const std::string& name, int64_t i) {
    return name.ends_with("v_proj.bias") ? 0.3f * std::sin(0.7f * float(i + 1)) : 0.0f;
  };
  const std::string a = dir_ + "/v", b = dir_ + "/o";
  write_biased_fixture(a, value_bias);
  const ModelConfig config = load_model_config(a + "/config.json");
  const TextConfig& t = config.text;
  const ModelTensorSpecs specs = qwen3vl_tensor_specs(config);
  const Checkpoint source(kFixture);
  // W_o b for each layer: b repeats per query head group (GQA shares a
  // value head between num_heads / num_kv_heads query heads).
  std::vector<std::vector<float>> o_bias(t.num_layers);
  for (int l = 0; l < t.num_layers; ++l) {
    const std::vector<float> wo = source.get(specs.text.layers[l].o_proj.weight.name).to_f32();
    const int64_t q_dim = int64_t(t.num_heads) * t.head_dim, group = t.num_heads / t.num_kv_heads;
    for (int64_t r = 0; r < t.hidden_size; ++r) {
      double sum = 0;
      for (int64_t c = 0; c < q_dim; ++c) {
        const int64_t kv_head = (c / t.head_dim) / group, d = c % t.head_dim;
        sum += double(wo[r * q_dim + c]) * value_bias("v_proj.bias", kv_head * t.head_dim + d);
      }
      o_bias[l].push_back(float(sum));
    }
  }
  write_biased_fixture(b, [&](const std::string& name, int64_t i) {
    if (!name.ends_with("o_proj.bias")) return 0.0f;
    const int layer = std::stoi(name.substr(std::string("model.language_model.layers.").size()));
    return o_bias[layer][i];
  });
  const std::string image_case = "case2_one_image.messages.json";
  const GreedyRun va = run(a, "auto", image_case, 4), ob = run(b, "auto", image_case, 4);
  const GreedyRun plain = run(kFixture, "auto", image_case, 4);
  // The identity holds up to float32 rounding (logits are O(1)).
  EXPECT_LT(max_abs_diff(va.logits_last, ob.logits_last), 1e-4f);
  EXPECT_EQ(va.ids, ob.ids);
  // ... and the biases are not ignored.
  EXPECT_GT(max_abs_diff(va.logits_last, plain.logits_last), 1e-2f);
}

TEST_F(AttentionBiasTest, QuantizeKeepsTheBiasesAndComputesLikeQuantizeAtLoad) {
  write_biased_fixture(dir_, [](const std::string& name, int64_t i) {
    return 0.05f * std::cos(0.3f * float(i) + float(name.size()));
  });
  const std::string file = dir_ + "/model.qwen3vl";
  QuantizeOptions q;
  q.quant = "q8";
  write_model_file(dir_, file, q);

  const Checkpoint source(dir_), written(file);
  const ModelConfig config = load_model_config(dir_ + "/config.json");
  int biases = 0;
  for (const TensorSpec& spec : qwen3vl_tensor_specs(config).text.all()) {
    if (spec.kind != TensorKind::Bias) continue;
    ++biases;
    const TensorView &a = source.get(spec.name), &b = written.get(spec.name, spec.shape);
    ASSERT_EQ(a.nbytes, b.nbytes) << spec.name;
    EXPECT_EQ(std::memcmp(a.data, b.data, a.nbytes), 0) << spec.name;  // as stored
  }
  EXPECT_EQ(biases, 4 * config.text.num_layers);

  const GreedyRun at_load = run(dir_, "q8", "case1_text.json", 6);
  const GreedyRun from_file = run(file, "auto", "case1_text.json", 6);
  ASSERT_FALSE(at_load.logits_last.empty());
  EXPECT_EQ(max_abs_diff(at_load.logits_last, from_file.logits_last), 0.0f);
  EXPECT_EQ(at_load.ids, from_file.ids);
  // The biases matter in the quantized model too.
  const GreedyRun unbiased = run(kFixture, "q8", "case1_text.json", 6);
  EXPECT_GT(max_abs_diff(at_load.logits_last, unbiased.logits_last), 1e-3f);
}

TEST_F(AttentionBiasTest, AMissingBiasIsNamed) {
  const std::string missing = "model.language_model.layers.2.self_attn.q_proj.bias";
  write_biased_fixture(dir_, [](const std::string&, int64_t) { return 0.0f; }, missing);
  try {
    Model::load(dir_);
    ADD_FAILURE() << "loading without " << missing << " did not throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
  QuantizeOptions q;
  q.quant = "q4";
  EXPECT_THROW(write_model_file(dir_, dir_ + "/model.qwen3vl", q), Error);
}

TEST_F(AttentionBiasTest, RandomCheckpointWritesQuantizesAndRunsThem) {
  Json config = load_json_file(kFixture + "/config.json");
  config["text_config"]["attention_bias"] = true;
  write_random_model(config, dir_);
  const Checkpoint ckpt(dir_);
  const auto bias = ckpt.get("model.language_model.layers.0.self_attn.v_proj.bias", {32}).to_f32();
  float largest = 0;
  for (float v : bias) largest = std::max(largest, std::abs(v));
  EXPECT_GT(largest, 0.0f);
  EXPECT_LE(largest, 0.021f);  // random biases are small

  QuantizeOptions q;
  q.quant = "q4";
  write_model_file(dir_, dir_ + "/model.qwen3vl", q);
  const GreedyRun at_load = run(dir_, "q4", "case1_text.json", 3);
  const GreedyRun from_file = run(dir_ + "/model.qwen3vl", "auto", "case1_text.json", 3);
  ASSERT_FALSE(at_load.logits_last.empty());
  EXPECT_EQ(max_abs_diff(at_load.logits_last, from_file.logits_last), 0.0f);
  EXPECT_EQ(at_load.ids, from_file.ids);
}

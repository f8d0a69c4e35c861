// make-random-model --quant: a model file written straight from generated
// tensors must be the file `quantize` makes of the random checkpoint of the
// same config and seed. Both go through one writer with the same values, so
// the files are equal byte for byte (a stronger check than comparing loaded
// weights), and loading it gives the logits of the checkpoint quantized at load.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/json.h"
#include "qwen3vl/base/regular_file.h"
#include "qwen3vl/model/presets.h"
#include "qwen3vl/qwen3vl.h"
#include "qwen3vl/runtime/model_file.h"

using namespace qwen3vl;
namespace fs = std::filesystem;

namespace {

const std::string kFixture = QWEN3VL_FIXTURE_DIR;

struct Paths {
  std::string dir, quantized, direct;
  explicit Paths(const std::string& tag)
      : dir(::testing::TempDir() + "/rmf_" + tag + "_" + std::to_string(::getpid())),
        quantized(dir + "/via-checkpoint.qwen3vl"),
        direct(dir + "/direct.qwen3vl") {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~Paths() { fs::remove_all(dir); }
};

// Writes the random checkpoint of `config`, quantizes it, writes the model
// file directly, and expects the two files to be equal.
void expect_same_file(const Json& config, const std::string& quant, const Paths& p) {
  RandomModelOptions ro;
  ro.seed = 77;
  write_random_model(config, p.dir + "/ckpt", ro);
  QuantizeOptions q;
  q.quant = quant;
  write_model_file(p.dir + "/ckpt", p.quantized, q);
  uint64_t last_done = 0, last_total = 0;
  ro.progress = [&](uint64_t done, uint64_t total) { last_done = done, last_total = total; };
  write_random_model_file(config, p.direct, quant, ro);
  EXPECT_GT(last_total, 0u);
  EXPECT_EQ(last_done, last_total);
  const std::string a = read_text_file(p.quantized), b = read_text_file(p.direct);
  ASSERT_GT(a.size(), 0u);
  EXPECT_EQ(a.size(), b.size()) << quant;
  EXPECT_TRUE(a == b) << quant << ": the direct model file differs from the quantized random checkpoint";
  // Only the final files: the temporary files went with the rename.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(p.dir)) entries += e.path().filename() != "ckpt";
  EXPECT_EQ(entries, 2);
}

std::vector<float> first_logits(const std::string& model_path, const std::string& quant) {
  LoadOptions lo;
  lo.weights = quant;
  lo.threads = 2;
  auto model = Model::load(model_path, lo);
  Session session(model);
  std::vector<float> logits;
  TensorCapture cap;
  cap.f32 = [&](const std::string& name, const std::vector<int64_t>&, const float* data) {
    if (name == "logits_last") logits.assign(data, data + model->config().text.vocab_size);
  };
  GenerateOptions g;
  g.max_tokens = 1;
  g.sampling.temperature = 0.0f;
  session.generate(Json::parse(R"([{"role": "user", "content": "Name three rivers."}])"), g, {}, &cap);
  return logits;
}

}  // namespace

TEST(RandomModelFile, MoeQ4SameBytesAsQuantizingTheCheckpoint) {
  const Paths p("moe_q4");
  expect_same_file(preset_config_json("tiny-moe"), "q4", p);
  // Loading it: the logits of the random checkpoint quantized at load, exactly.
  const std::vector<float> direct = first_logits(p.direct, "auto");
  const std::vector<float> at_load = first_logits(p.dir + "/ckpt", "q4");
  ASSERT_FALSE(direct.empty());
  EXPECT_EQ(direct, at_load);
}

TEST(RandomModelFile, DenseQ8AndBf16SameBytesAsQuantizingTheCheckpoint) {
  for (const std::string quant : {"q8", "bf16"}) {
    const Paths p("dense_" + quant);
    expect_same_file(load_json_file(kFixture + "/config.json"), quant, p);
  }
}

TEST(RandomModelFile, RefusesAnUnknownFormatAndLeavesNothing) {
  const Paths p("bad");
  try {
    write_random_model_file(preset_config_json("tiny-moe"), p.direct, "q3");
    FAIL() << "q3 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("q4, q8 or bf16"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(p.dir));
}

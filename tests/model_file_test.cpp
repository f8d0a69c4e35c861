// qwen3vl model files (runtime/model_file.h): quantize the tiny fixture to
// q8/q4/bf16 files, load them, and check they compute exactly what the
// quantize-at-load path computes from the Hugging Face directory, that the
// bf16 file reproduces the golden greedy ids, and that damaged files fail
// with an Error naming the file and the item at fault.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/json.h"
#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/io/safetensors.h"
#include "qwen3vl/kernels/quant.h"
#include "qwen3vl/qwen3vl.h"
#include "qwen3vl/runtime/model_file.h"
#include "qwen3vl/tokenizer/chat_template.h"
#include "qwen3vl/tokenizer/tokenizer.h"
#include "qwen3vl/weights/weight_formats.h"
#include "greedy_run_util.h"

using namespace qwen3vl;
namespace fs = std::filesystem;

namespace {

const std::string kFixture = QWEN3VL_FIXTURE_DIR;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The header JSON and the data section of a safetensors file.
struct SplitFile {
  Json header;
  std::string data;
};

SplitFile split(const std::string& path) {
  const std::string bytes = read_bytes(path);
  uint64_t len = 0;
  std::memcpy(&len, bytes.data(), 8);
  return {Json::parse(bytes.substr(8, len)), bytes.substr(8 + len)};
}

// Writes `f` back (data offsets are relative to the data section, so editing
// the header alone keeps the tensors where they were).
void join(const SplitFile& f, const std::string& path) {
  std::string text = f.header.dump();
  while ((8 + text.size()) % 64) text.push_back(' ');
  const uint64_t len = text.size();
  write_bytes(path, std::string(reinterpret_cast<const char*>(&len), 8) + text + f.data);
}

class ModelFileTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (fs::temp_directory_path() / ("qwen3vl_model_file_test_" + std::to_string(::getpid()))).string();
    fs::create_directories(dir_);
    for (const char* quant : {"q8", "q4", "bf16"}) {
      QuantizeOptions o;
      o.quant = quant;
      write_model_file(kFixture, file(quant), o);
    }
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::string file(const std::string& quant) { return dir_ + "/tiny-" + quant + ".qwen3vl"; }

  // Expects loading `path` to throw an Error whose message contains every
  // string of `parts`.
  static void expect_load_error(const std::string& path, const std::vector<std::string>& parts,
                                const std::string& quant = "auto") {
    LoadOptions o;
    o.weights = quant;
    try {
      Model::load(path, o);
      ADD_FAILURE() << "loading " << path << " did not throw";
    } catch (const Error& e) {
      for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
    }
  }

  static std::string dir_;
};

std::string ModelFileTest::dir_;

using RunOutput = GreedyRun;

RunOutput run(const std::shared_ptr<Model>& model, const std::string& messages_file, int max_tokens) {
  return run_greedy(model, messages_file, max_tokens);
}

std::vector<int32_t> golden_ids(const std::string& case_name) { return golden_generated_ids(case_name); }

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_F(ModelFileTest, QuantizedFilesComputeExactlyWhatQuantizeAtLoadComputes) {
  for (const std::string quant : {"q8", "q4"}) {
    LoadOptions at_load;
    at_load.weights = quant;
    auto reference = Model::load(kFixture, at_load);
    auto from_file = Model::load(file(quant));
    for (const char* messages : {"case1_text.json", "case2_one_image.messages.json"}) {
      const RunOutput a = run(reference, messages, 4), b = run(from_file, messages, 4);
      ASSERT_FALSE(a.logits_last.empty());
      EXPECT_TRUE(bitwise_equal(a.logits_last, b.logits_last)) << quant << " " << messages;
      EXPECT_TRUE(bitwise_equal(a.image_embeds, b.image_embeds)) << quant << " " << messages;
      EXPECT_EQ(a.ids, b.ids) << quant << " " << messages;
    }
  }
}

TEST_F(ModelFileTest, Bf16FileReproducesGoldenGreedyIds) {
  auto model = Model::load(file("bf16"));
  EXPECT_EQ(run(model, "case1_text.json", 12).ids, golden_ids("case1_text"));
  EXPECT_EQ(run(model, "case2_one_image.messages.json", 12).ids, golden_ids("case2_one_image"));
}

TEST_F(ModelFileTest, CarriesConfigsTokenizerAndTemplate) {
  auto dir_model = Model::load(kFixture);
  auto file_model = Model::load(file("q4"));
  EXPECT_EQ(model_config_to_json(file_model->config()), model_config_to_json(dir_model->config()));
  EXPECT_EQ(file_model->generation_config().eos_token_ids, dir_model->generation_config().eos_token_ids);
  EXPECT_EQ(file_model->preprocessor_config().max_pixels, dir_model->preprocessor_config().max_pixels);
  EXPECT_EQ(file_model->chat_template().source(), dir_model->chat_template().source());
  const std::string text = "Hello <|im_start|>world 你好";
  EXPECT_EQ(file_model->tokenizer().encode(text), dir_model->tokenizer().encode(text));
}

TEST_F(ModelFileTest, QuantizedWeightsAreViewsIntoTheMapping) {
  const ModelFile mf = open_model_file(file("q4"));
  auto prepared = [&](const std::string& name) -> const WeightMatrix* {
    auto it = mf.quantized.find(name);
    return it == mf.quantized.end() ? nullptr : &it->second;
  };
  const std::string name = "model.language_model.layers.0.mlp.gate_proj.weight";
  const WeightMatrix* w = prepared(name);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->format, WeightFormat::Q4);
  EXPECT_EQ(w->owner, nullptr);  // no copy
  EXPECT_EQ(w->data, mf.checkpoint->get(name).data);
  const WeightMatrix* embed = prepared("model.language_model.embed_tokens.weight");
  ASSERT_NE(embed, nullptr);
  EXPECT_EQ(embed->format, WeightFormat::Q8);  // q4 keeps the embedding/head and vision at 8 bits
  ASSERT_NE(prepared("model.visual.blocks.0.attn.qkv.weight"), nullptr);
  EXPECT_EQ(prepared("model.visual.blocks.0.attn.qkv.weight")->format, WeightFormat::Q8);
  // The 5-D patch-embedding convolution is stored as its [hidden, 1536] matrix.
  const WeightMatrix* patch = prepared("model.visual.patch_embed.proj.weight");
  ASSERT_NE(patch, nullptr);
  EXPECT_EQ(patch->format, WeightFormat::Q8);
  EXPECT_EQ(patch->cols, 3 * 2 * 16 * 16);
  // Norms and biases stay as stored.
  EXPECT_EQ(prepared("model.language_model.norm.weight"), nullptr);
}

TEST_F(ModelFileTest, LayoutIsAlignedSafetensorsWithVersionedMetadata) {
  const SplitFile f = split(file("q4"));
  const std::string bytes = read_bytes(file("q4"));
  uint64_t len = 0;
  std::memcpy(&len, bytes.data(), 8);
  EXPECT_EQ((8 + len) % 64, 0u);
  const Json& md = f.header["__metadata__"];
  EXPECT_EQ(md["format"], "qwen3vl");
  EXPECT_EQ(md["version"], "2.1");
  EXPECT_EQ(md["quant"], "q4");
  size_t tensors = 0;
  for (auto it = f.header.begin(); it != f.header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    ++tensors;
    EXPECT_EQ((*it)["data_offsets"][0].get<uint64_t>() % 64, 0u) << it.key();
  }
  EXPECT_GT(tensors, 50u);
  // A standard reader sees every tensor; quantized ones are U8 byte blobs.
  SafetensorsFile plain(file("q4"));
  EXPECT_EQ(plain.get("model.language_model.layers.0.mlp.down_proj.weight").dtype, DType::U8);
  EXPECT_EQ(plain.get("model.language_model.norm.weight").dtype, DType::BF16);
  EXPECT_EQ(plain.get("file:config.json").dtype, DType::U8);
}

TEST_F(ModelFileTest, TruncatedFileFailsCleanly) {
  const std::string bytes = read_bytes(file("q8"));
  for (size_t keep : {size_t(0), size_t(5), size_t(100), bytes.size() / 2, bytes.size() - 1}) {
    const std::string path = dir_ + "/truncated.qwen3vl";
    write_bytes(path, bytes.substr(0, keep));
    expect_load_error(path, {path});
  }
}

TEST_F(ModelFileTest, NewerMajorVersionIsRefused) {
  SplitFile f = split(file("q4"));
  f.header["__metadata__"]["version"] = "3.0";
  const std::string path = dir_ + "/v3.qwen3vl";
  join(f, path);
  expect_load_error(path, {path, "version 3.0", "newer"});
  // A newer minor version of the same major still loads, and so does an
  // older major (1.x files differ only in storing the patch embedding as is).
  for (const char* readable : {"2.7", "1.0"}) {
    f.header["__metadata__"]["version"] = readable;
    join(f, path);
    EXPECT_NO_THROW(Model::load(path)) << readable;
  }
  f.header["__metadata__"]["version"] = "2.0";
  f.header["__metadata__"]["quant_layout"] = "0123456789abcdef";
  join(f, path);
  expect_load_error(path, {path, "layout", "quantize the checkpoint again"});
  f.header["__metadata__"]["version"] = "banana";
  join(f, path);
  expect_load_error(path, {path, "version"});
}

TEST_F(ModelFileTest, MissingPiecesAreNamed) {
  const std::string path = dir_ + "/broken.qwen3vl";
  {
    SplitFile f = split(file("q4"));
    f.header.erase("file:tokenizer.json");
    join(f, path);
    expect_load_error(path, {path, "tokenizer.json"});
  }
  {
    SplitFile f = split(file("q4"));
    f.header["__metadata__"].erase("format");
    join(f, path);
    expect_load_error(path, {path, "not a qwen3vl model file"});
  }
  {
    SplitFile f = split(file("q4"));
    f.header.erase("model.language_model.layers.1.mlp.up_proj.weight");
    join(f, path);
    expect_load_error(path, {path, "model.language_model.layers.1.mlp.up_proj.weight"});
  }
  {
    SplitFile f = split(file("q4"));
    f.header.erase("model.language_model.layers.2.input_layernorm.weight");
    join(f, path);
    expect_load_error(path, {path, "model.language_model.layers.2.input_layernorm.weight"});
  }
  {
    // Metadata that disagrees with the stored bytes.
    SplitFile f = split(file("q4"));
    Json q = Json::parse(f.header["__metadata__"]["quantized_weights"].get<std::string>());
    q["model.language_model.layers.0.self_attn.o_proj.weight"]["rows"] = 96;
    f.header["__metadata__"]["quantized_weights"] = q.dump();
    join(f, path);
    expect_load_error(path, {path, "model.language_model.layers.0.self_attn.o_proj.weight"});
  }
  {
    SplitFile f = split(file("q4"));
    f.header["__metadata__"]["quantized_weights"] = "{not json";
    join(f, path);
    expect_load_error(path, {path, "quantized_weights"});
  }
  // The Hugging Face weights file itself is safetensors but not a model file.
  expect_load_error(kFixture + "/model.safetensors", {"model.safetensors", "not a qwen3vl model file"});
}

TEST_F(ModelFileTest, GarbageHeaderFailsCleanly) {
  std::string bytes = read_bytes(file("q8"));
  for (size_t at : {size_t(8), size_t(40), size_t(200)}) {
    std::string damaged = bytes;
    damaged[at] = '\x01';
    const std::string path = dir_ + "/garbage.qwen3vl";
    write_bytes(path, damaged);
    expect_load_error(path, {path});
  }
}

TEST_F(ModelFileTest, DifferentQuantIsAnError) {
  expect_load_error(file("q4"), {file("q4"), "q4", "--quant q8"}, "q8");
  EXPECT_NO_THROW(Model::load(file("q4"), [] {
    LoadOptions o;
    o.weights = "q4";
    return o;
  }()));
}

TEST_F(ModelFileTest, QuantizeRejectsBadInputs) {
  QuantizeOptions o;
  o.quant = "q3";
  EXPECT_THROW(write_model_file(kFixture, dir_ + "/x.qwen3vl", o), Error);
  o.quant = "q4";
  EXPECT_THROW(write_model_file(file("q4"), dir_ + "/x.qwen3vl", o), Error);  // a file, not a directory
  EXPECT_THROW(write_model_file(dir_ + "/nowhere", dir_ + "/x.qwen3vl", o), Error);
  EXPECT_FALSE(fs::exists(dir_ + "/x.qwen3vl"));
  EXPECT_FALSE(fs::exists(dir_ + "/x.qwen3vl.tmp"));
}

TEST(ParallelQuantization, BitIdenticalToSerialOnOddShapes) {
  ThreadPool pool(3);
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1000, 70}, {17, 33}, {5, 32}, {530, 96}}) {
    std::vector<float> values(static_cast<size_t>(rows * cols));
    for (size_t i = 0; i < values.size(); ++i) values[i] = std::sin(0.37f * float(i)) * (1.0f + float(i % 7));
    const WeightMatrix src = make_f32_weight(rows, cols, values);
    for (WeightFormat fmt : {WeightFormat::Q8, WeightFormat::Q4}) {
      const WeightMatrix serial = quantize_weight(src, fmt);
      const WeightMatrix parallel = quantize_weight_parallel(src, fmt, pool);
      ASSERT_EQ(serial.bytes(), parallel.bytes());
      EXPECT_EQ(std::memcmp(serial.data, parallel.data, serial.bytes()), 0) << rows << "x" << cols;
    }
  }
}

TEST_F(ModelFileTest, CliQuantizeThenRun) {
  const std::string cli = QWEN3VL_CLI_PATH;
  const std::string out = dir_ + "/cli-q4.qwen3vl";
  ASSERT_EQ(std::system((cli + " quantize -q -m " + kFixture + " -o " + out + " --quant q4").c_str()), 0);
  EXPECT_EQ(read_bytes(out), read_bytes(file("q4")));  // deterministic
  FILE* p = ::popen((cli + " run -m " + out + " -p 'Give me a short introduction to large language models.'" +
                     " -n 12 --temp 0 --json")
                        .c_str(),
                    "r");
  ASSERT_NE(p, nullptr);
  std::string text;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof(buf), p)) text.append(buf, n);
  ASSERT_EQ(::pclose(p), 0) << text;
  const Json result = Json::parse(text);
  LoadOptions at_load;
  at_load.weights = "q4";
  EXPECT_EQ(result["output_ids"].get<std::vector<int32_t>>(), run(Model::load(kFixture, at_load), "case1_text.json", 12).ids);
  // A damaged file is reported on stderr with exit code 1, no crash.
  write_bytes(out, read_bytes(out).substr(0, 1000));
  EXPECT_EQ(std::system((cli + " run -q -m " + out + " -p hi -n 1 2>/dev/null").c_str()), 1 << 8);
}

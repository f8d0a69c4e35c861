// Corrupted copies of the fixture checkpoint: each must fail at load with one
// clear Error naming the file (and tensor), never crash.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <fstream>

#include "qwen3vl/io/safetensors.h"
#include "qwen3vl/qwen3vl.h"

using namespace qwen3vl;
namespace fs = std::filesystem;

static const std::string kFixture = QWEN3VL_FIXTURE_DIR;
static const std::string kMoeFixture = QWEN3VL_MOE_FIXTURE_DIR;

namespace {

// A writable copy of a fixture in a fresh temp directory.
std::string copy_fixture(const std::string& tag, const std::string& fixture = kFixture) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("corrupt_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(fixture))
    if (e.is_regular_file()) fs::copy_file(e.path(), dir / e.path().filename());
  for (const auto& e : fs::directory_iterator(dir)) fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
  return dir.string();
}

std::string load_error(const std::string& dir) {
  try {
    Model::load(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Rewrites model.safetensors keeping every tensor but those `edit` drops or changes.
void rewrite_weights(const std::string& dir,
                     const std::function<bool(const TensorView&, SafetensorsWriter&)>& edit) {
  const std::string path = dir + "/model.safetensors";
  SafetensorsWriter w;
  {
    SafetensorsFile f(path);
    for (const auto& [name, t] : f.tensors())
      if (!edit(t, w)) w.add(name, t.dtype, t.shape, t.data, t.nbytes);
  }
  w.write(path + ".new");
  fs::rename(path + ".new", path);
}

}  // namespace

TEST(LoaderErrors, TruncatedWeights) {
  const std::string dir = copy_fixture("truncated");
  fs::resize_file(dir + "/model.safetensors", fs::file_size(dir + "/model.safetensors") / 2);
  const std::string e = load_error(dir);
  EXPECT_NE(e.find("model.safetensors"), std::string::npos) << e;
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
}

TEST(LoaderErrors, TruncatedInsideHeader) {
  const std::string dir = copy_fixture("truncated_header");
  fs::resize_file(dir + "/model.safetensors", 100);
  const std::string e = load_error(dir);
  EXPECT_NE(e.find("model.safetensors"), std::string::npos) << e;
}

TEST(LoaderErrors, FlippedHeaderBytes) {
  const std::string dir = copy_fixture("flipped");
  {
    std::fstream f(dir + "/model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);
    const char junk[] = "\x01\xff}{\"";
    f.write(junk, 5);
  }
  const std::string e = load_error(dir);
  EXPECT_NE(e.find("model.safetensors"), std::string::npos) << e;
  EXPECT_NE(e.find("corrupt"), std::string::npos) << e;
}

TEST(LoaderErrors, HeaderLengthPastEndOfFile) {
  const std::string dir = copy_fixture("hugeheader");
  {
    std::fstream f(dir + "/model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    const uint64_t len = uint64_t(1) << 40;
    f.write(reinterpret_cast<const char*>(&len), 8);
  }
  const std::string e = load_error(dir);
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
}

TEST(LoaderErrors, MissingTensorIsNamed) {
  const std::string dir = copy_fixture("dropped");
  const std::string victim = "model.language_model.layers.1.mlp.up_proj.weight";
  rewrite_weights(dir, [&](const TensorView& t, SafetensorsWriter&) { return t.name == victim; });
  const std::string e = load_error(dir);
  EXPECT_NE(e.find(victim), std::string::npos) << e;
  EXPECT_NE(e.find("missing"), std::string::npos) << e;
}

TEST(LoaderErrors, MissingVisionTensorIsNamed) {
  const std::string dir = copy_fixture("dropped_vision");
  const std::string victim = "model.visual.deepstack_merger_list.1.linear_fc2.bias";
  rewrite_weights(dir, [&](const TensorView& t, SafetensorsWriter&) { return t.name == victim; });
  const std::string e = load_error(dir);
  EXPECT_NE(e.find(victim), std::string::npos) << e;
}

TEST(LoaderErrors, WrongShapeIsNamedWithBothShapes) {
  const std::string dir = copy_fixture("shape");
  const std::string victim = "model.language_model.layers.0.self_attn.k_proj.weight";
  rewrite_weights(dir, [&](const TensorView& t, SafetensorsWriter& w) {
    if (t.name != victim) return false;
    w.add(t.name, t.dtype, {t.shape[1], t.shape[0]}, t.data, t.nbytes);  // transposed shape
    return true;
  });
  const std::string e = load_error(dir);
  EXPECT_NE(e.find(victim), std::string::npos) << e;
  EXPECT_NE(e.find("[48, 32]"), std::string::npos) << e;
}

TEST(LoaderErrors, WrongDtypeIsNamed) {
  const std::string dir = copy_fixture("dtype");
  const std::string victim = "model.language_model.layers.2.self_attn.o_proj.weight";
  rewrite_weights(dir, [&](const TensorView& t, SafetensorsWriter& w) {
    if (t.name != victim) return false;
    w.add(t.name, DType::I16, t.shape, t.data, t.nbytes);
    return true;
  });
  const std::string e = load_error(dir);
  EXPECT_NE(e.find(victim), std::string::npos) << e;
}

TEST(LoaderErrors, UnsupportedModelType) {
  const std::string dir = copy_fixture("model_type");
  Json cfg = load_json_file(dir + "/config.json");
  cfg["model_type"] = "qwen2_5_vl";
  std::ofstream(dir + "/config.json") << cfg.dump();
  const std::string e = load_error(dir);
  EXPECT_NE(e.find("unsupported model_type \"qwen2_5_vl\""), std::string::npos) << e;
  EXPECT_NE(e.find("config.json"), std::string::npos) << e;
}

TEST(LoaderErrors, MissingFilesAreNamed) {
  for (const std::string f : {"model.safetensors", "tokenizer.json", "config.json"}) {
    const std::string dir = copy_fixture("missing_" + f);
    fs::remove(dir + "/" + f);
    const std::string e = load_error(dir);
    EXPECT_NE(e.find(f == "model.safetensors" ? "no weights" : f), std::string::npos) << f << ": " << e;
  }
}

TEST(LoaderErrors, ShardIndexNamingAMissingShard) {
  const std::string dir = copy_fixture("shards");
  std::ofstream(dir + "/model.safetensors.index.json")
      << R"({"weight_map": {"model.language_model.norm.weight": "model-00001-of-00002.safetensors"}})";
  const std::string e = load_error(dir);
  EXPECT_NE(e.find("model-00001-of-00002.safetensors"), std::string::npos) << e;
}

// ---------------------------------------------------------------- Mixture of Experts

TEST(LoaderErrors, MoeMissingExpertTensorIsNamed) {
  for (const std::string victim : {"model.language_model.layers.2.mlp.experts.gate_up_proj",
                                   "model.language_model.layers.0.mlp.experts.down_proj",
                                   "model.language_model.layers.0.mlp.gate.weight"}) {
    const std::string dir = copy_fixture("moe_dropped", kMoeFixture);
    rewrite_weights(dir, [&](const TensorView& t, SafetensorsWriter&) { return t.name == victim; });
    const std::string e = load_error(dir);
    EXPECT_NE(e.find(victim), std::string::npos) << e;
    EXPECT_NE(e.find("missing"), std::string::npos) << e;
  }
}

// An expert tensor stored otherwise than the config describes: the error
// names the tensor and what differs.
TEST(LoaderErrors, MoeExpertTensorOfWrongShapeOrDtypeIsNamed) {
  struct Case {
    std::string victim;
    std::function<void(const TensorView&, SafetensorsWriter&)> store;  // writes the altered tensor
    std::vector<std::string> expected;
  };
  const Case cases[] = {
      // [E, hidden, 2I] stored as [E, 2I, hidden] (a transposed export): both shapes named.
      {"model.language_model.layers.0.mlp.experts.gate_up_proj",
       [](const TensorView& t, SafetensorsWriter& w) {
         w.add(t.name, t.dtype, {t.shape[0], t.shape[2], t.shape[1]}, t.data, t.nbytes);
       },
       {"[8, 16, 64]", "[8, 64, 16]"}},
      {"model.language_model.layers.2.mlp.experts.down_proj",
       [](const TensorView& t, SafetensorsWriter& w) { w.add(t.name, DType::I16, t.shape, t.data, t.nbytes); },
       {"I16"}},
  };
  for (const Case& c : cases) {
    const std::string dir = copy_fixture("moe_altered", kMoeFixture);
    rewrite_weights(dir, [&](const TensorView& t, SafetensorsWriter& w) {
      if (t.name != c.victim) return false;
      c.store(t, w);
      return true;
    });
    const std::string e = load_error(dir);
    EXPECT_NE(e.find(c.victim), std::string::npos) << e;
    for (const std::string& x : c.expected) EXPECT_NE(e.find(x), std::string::npos) << x << " in: " << e;
  }
}

TEST(LoaderErrors, MoeConfigWithMoreExpertsThanTheCheckpoint) {
  const std::string dir = copy_fixture("moe_experts", kMoeFixture);
  Json cfg = load_json_file(dir + "/config.json");
  cfg["text_config"]["num_experts"] = 16;
  std::ofstream(dir + "/config.json") << cfg.dump();
  const std::string e = load_error(dir);
  EXPECT_NE(e.find("mlp.gate.weight"), std::string::npos) << e;
  EXPECT_NE(e.find("[16, 16]"), std::string::npos) << e;
}

TEST(LoaderErrors, DenseCheckpointUnderAMoeConfigNamesTheMissingRouter) {
  // The dense fixture's weights with a MoE config: layer 0 has no router.
  const std::string dir = copy_fixture("moe_on_dense");
  Json cfg = load_json_file(dir + "/config.json");
  cfg["model_type"] = "qwen3_vl_moe";
  cfg["text_config"]["num_experts"] = 4;
  cfg["text_config"]["num_experts_per_tok"] = 2;
  cfg["text_config"]["moe_intermediate_size"] = 32;
  std::ofstream(dir + "/config.json") << cfg.dump();
  const std::string e = load_error(dir);
  EXPECT_NE(e.find("model.language_model.layers.0.mlp.gate.weight"), std::string::npos) << e;
}

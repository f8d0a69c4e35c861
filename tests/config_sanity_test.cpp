// Class 8 of the hostile-input issue: numbers in configs that make no sense
// are refused at load with the field named, instead of giving NaN or silent
// misbehaviour later.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "qwen3vl/base/error.h"
#include "test_util.h"
#include "qwen3vl/base/json.h"
#include "qwen3vl/qwen3vl.h"

using namespace qwen3vl;
namespace fs = std::filesystem;

static const std::string kFixture = QWEN3VL_FIXTURE_DIR;

namespace {

// The fixture checkpoint with `file` replaced by the fixture's own JSON after `edit`.
std::string checkpoint_with(const std::string& file, const std::function<void(Json&)>& edit) {
  static int counter = 0;
  const fs::path dir = fresh_dir("sanity_" + std::to_string(counter++));
  for (const auto& e : fs::directory_iterator(kFixture))
    if (e.is_regular_file() && e.path().filename() != file) fs::create_symlink(e.path(), dir / e.path().filename());
  Json j = load_json_file(kFixture + "/" + file);
  edit(j);
  std::ofstream(dir / file) << j.dump();
  return dir.string();
}

std::string load_error(const std::string& dir, int64_t context_length = 4096) {
  LoadOptions o;
  o.load_weights = false;
  o.context_length = context_length;
  try {
    Model::load(dir, o);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ConfigSanity, TextConfigNumbersAreChecked) {
  struct Case {
    std::function<void(Json&)> edit;
    std::string fragment;
  } cases[] = {
      {[](Json& j) { j["text_config"]["rms_norm_eps"] = -1e-6; }, "\"rms_norm_eps\" must be in (0, 1], got -1e-06"},
      {[](Json& j) { j["text_config"]["rms_norm_eps"] = 0; }, "\"rms_norm_eps\" must be in (0, 1], got 0"},
      {[](Json& j) { j["text_config"]["hidden_act"] = "relu"; }, "unsupported \"hidden_act\" \"relu\""},
      {[](Json& j) { j["text_config"]["rope_theta"] = -5; }, "\"rope_theta\" must be a finite number >= 1"},
      {[](Json& j) { j["text_config"]["max_position_embeddings"] = 0; }, "\"max_position_embeddings\" must be positive"},
      {[](Json& j) { j["text_config"]["num_key_value_heads"] = -2; }, "\"num_key_value_heads\" must be positive"},
      {[](Json& j) { j["image_token_id"] = 999999999; }, "\"image_token_id\" 999999999 is outside the vocabulary"},
      {[](Json& j) { j["vision_config"]["hidden_act"] = "relu"; }, "unsupported vision hidden_act"},
  };
  for (const auto& c : cases) {
    const std::string e = load_error(checkpoint_with("config.json", c.edit));
    EXPECT_NE(e.find(c.fragment), std::string::npos) << e;
    EXPECT_NE(e.find("config.json"), std::string::npos) << e;
  }
  // The unmodified copy loads.
  EXPECT_EQ(load_error(checkpoint_with("config.json", [](Json&) {})), "");
}

TEST(ConfigSanity, ContextLongerThanTrainedPositionsIsRefused) {
  const std::string dir = checkpoint_with("config.json", [](Json& j) { j["text_config"]["max_position_embeddings"] = 1000; });
  EXPECT_EQ(load_error(dir, 1000), "");
  const std::string e = load_error(dir, 1001);
  EXPECT_NE(e.find("context length 1001 (--ctx) is above the model's max_position_embeddings of 1000"),
            std::string::npos) << e;
  EXPECT_NE(load_error(dir, -5).find("must be positive"), std::string::npos);
}

TEST(ConfigSanity, GenerationConfigSamplingValuesAreChecked) {
  struct Case {
    const char* key;
    Json value;
    std::string fragment;
  } cases[] = {
      {"top_p", 2.0, "\"top_p\" must be in (0, 1], got 2"},
      {"temperature", -0.5, "\"temperature\" must be a finite number >= 0, got -0.5"},
      {"top_k", -3, "\"top_k\" must not be negative, got -3"},
      {"min_p", 7, "\"min_p\" must be in [0, 1]"},
      {"repetition_penalty", 0, "\"repetition_penalty\" must be a finite number > 0"},
  };
  for (const auto& c : cases) {
    const std::string e = load_error(checkpoint_with("generation_config.json", [&](Json& j) { j[c.key] = c.value; }));
    EXPECT_NE(e.find(c.fragment), std::string::npos) << c.key << ": " << e;
    EXPECT_NE(e.find("generation_config.json"), std::string::npos) << e;
  }
}

TEST(ConfigSanity, PreprocessorMustCutThePatchesTheVisionTowerReads) {
  const std::string patch = load_error(checkpoint_with("preprocessor_config.json", [](Json& j) { j["patch_size"] = 14; }));
  EXPECT_NE(patch.find("\"patch_size\" 14 differs from the vision config's 16"), std::string::npos) << patch;
  const std::string merge = load_error(checkpoint_with("preprocessor_config.json", [](Json& j) { j["merge_size"] = 0; }));
  EXPECT_NE(merge.find("\"merge_size\" must be in 1..1024, got 0"), std::string::npos) << merge;
  const std::string rescale =
      load_error(checkpoint_with("preprocessor_config.json", [](Json& j) { j["rescale_factor"] = -1; }));
  EXPECT_NE(rescale.find("\"rescale_factor\" must be a finite number > 0"), std::string::npos) << rescale;
  const std::string pixels = load_error(
      checkpoint_with("preprocessor_config.json", [](Json& j) { j["size"]["longest_edge"] = int64_t{1} << 50; }));
  EXPECT_NE(pixels.find("\"max_pixels\""), std::string::npos) << pixels;
}

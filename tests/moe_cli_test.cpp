// The MoE fixture end to end through the command line, as a user runs it:
// `run --json` and `dump` against every golden case (routing exact).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "cli_test_util.h"
#include "dump_compare.h"
#include "qwen3vl/base/json.h"
#include "qwen3vl/io/safetensors.h"

using namespace qwen3vl;

namespace {

const std::string kMoe = QWEN3VL_MOE_FIXTURE_DIR;
const std::string kGolden = kMoe + "/golden";
const char* kCases[] = {"case1_text", "case2_one_image"};

Json golden_json(const std::string& c) { return load_json_file(kGolden + "/" + c + ".json"); }

std::string write_messages(const std::string& c) { return write_golden_messages(kGolden, c); }

using qwen3vl::testing::dumped_ints;

}  // namespace

TEST(MoeCli, RunJsonMatchesGoldenForEveryCase) {
  for (const std::string c : kCases) expect_run_matches_golden(kMoe, write_messages(c), golden_json(c), c);
}

TEST(MoeCli, DumpWritesGoldenTensorsAndRouting) {
  for (const std::string c : kCases) {
    const std::string out = ::testing::TempDir() + "/moe_" + c + "_" + std::to_string(::getpid()) + ".dump.safetensors";
    const CliResult r = run_cli("dump -m " + kMoe + " --messages " + write_messages(c) + " -n 12 -o " + out);
    ASSERT_EQ(r.exit_code, 0) << c << ": " << r.err;
    SafetensorsFile mine(out), gold(kGolden + "/" + c + ".safetensors");
    for (const std::string name :
         {"input_ids", "position_ids", "rope_deltas", "generated_ids", "router_topk_ids_layer0",
          "router_topk_ids_layer2", "generated_router_topk_ids_layer0", "generated_router_topk_ids_layer2"}) {
      ASSERT_TRUE(mine.has(name)) << c << " " << name;
      EXPECT_EQ(mine.get(name).dtype, DType::I64) << c << " " << name;
      EXPECT_EQ(mine.get(name).shape, gold.get(name).shape) << c << " " << name;
      EXPECT_EQ(dumped_ints(mine.get(name)), dumped_ints(gold.get(name))) << c << " " << name;
    }
    EXPECT_FALSE(mine.has("router_topk_ids_layer1")) << "layer 1 is dense";
    auto max_diff = [&](const std::string& name) { return qwen3vl::testing::dumped_max_diff(mine, gold, name); };
    EXPECT_LE(max_diff("logits_last"), 1e-3f) << c;
    EXPECT_LE(max_diff("logits_first256"), 1e-3f) << c;
    for (const std::string l : {"0", "2"}) {
      EXPECT_LE(max_diff("router_topk_weights_layer" + l), 1e-4f) << c;
      EXPECT_LE(max_diff("router_logits_layer" + l), 1e-3f) << c;
      EXPECT_LE(max_diff("moe_out_layer" + l), 1e-3f) << c;
    }
    for (const std::string l : {"0", "1", "2"}) EXPECT_LE(max_diff("text_layer" + l + "_out"), 1e-3f) << c;
    if (c == "case2_one_image") {
      EXPECT_EQ(dumped_ints(mine.get("image_grid_thw")), dumped_ints(gold.get("image_grid_thw")));
      for (const char* v : {"image_embeds", "deepstack_0", "deepstack_1", "vision_patch_embed", "vision_pos_embeds",
                            "vision_block3_out"})
        EXPECT_LE(max_diff(v), 1e-4f) << v;
      EXPECT_LE(max_diff("pixel_values"), 1e-2f);
    }
  }
}

// A scaled model of a shape too big to write whole: the first N layers of a
// preset, loadable and runnable; N outside [DeepStack levels, layers] is refused.
TEST(MoeCli, MakeRandomModelKeepsTheFirstLayers) {
  const std::string dir = ::testing::TempDir() + "/tiny_moe_2_layers_" + std::to_string(::getpid());
  const CliResult made = run_cli("make-random-model --preset tiny-moe --layers 2 -q -o " + dir);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const Json config = load_json_file(dir + "/config.json");
  EXPECT_EQ(config["text_config"]["num_hidden_layers"], 2);
  EXPECT_EQ(config["text_config"]["mlp_only_layers"], Json::array({1}));
  const CliResult ran = run_cli("run -m " + dir + " -p hi -n 2 --temp 0 --json");
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  EXPECT_EQ(parse_json(ran.out, "run --json")["output_ids"].size(), 2u);
  for (const char* bad : {"1", "4"}) {
    const CliResult r = run_cli("make-random-model --preset tiny-moe -q --layers " + std::string(bad) + " -o " + dir + "_bad");
    EXPECT_NE(r.exit_code, 0) << bad;
    EXPECT_NE(r.err.find("--layers must be between 2"), std::string::npos) << r.err;
  }
  std::filesystem::remove_all(dir);
}

// The command-line contract, end to end: run --json, tokenize, dump compared
// with the goldens, help and errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include "cli_test_util.h"
#include "dump_compare.h"
#include "qwen3vl/base/json.h"
#include "qwen3vl/io/safetensors.h"

using namespace qwen3vl;

static const std::string kFixture = QWEN3VL_FIXTURE_DIR;
static const std::string kGolden = kFixture + "/golden";

static Json golden_json(const std::string& c) { return load_json_file(kGolden + "/" + c + ".json"); }

static std::string write_messages(const std::string& c) { return write_golden_messages(kGolden, c); }

TEST(Cli, RunJsonMatchesGoldenForEveryCase) {
  for (const std::string c : {"case1_text", "case2_one_image", "case3_two_images"}) {
    const Json out = expect_run_matches_golden(kFixture, write_messages(c), golden_json(c), c);
    if (out.is_null()) continue;
    for (const char* k : {"load_ms", "image_decode_ms", "preprocess_ms", "vision_ms", "prefill_ms", "decode_ms", "ttft_ms"})
      EXPECT_TRUE(out["timings"].contains(k)) << k;
  }
}

TEST(Cli, RunWithImageFlagsPlacesImagesBeforeText) {
  // Same as case 2 but written with --image/-p; case 2's message is exactly
  // [image, text] in one user turn.
  const Json g = golden_json("case2_one_image");
  const auto& parts = g["messages"][0]["content"];
  ASSERT_EQ(parts.size(), 2u);
  const std::string text = parts[1]["text"];
  const CliResult r = run_cli("run -m " + kFixture + " --image " + kGolden + "/img_400x300.png -p '" + text +
                              "' -n 12 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json out = parse_json(r.out, "run --json");
  EXPECT_EQ(out["prompt_ids"], g["input_ids"]);
  EXPECT_EQ(out["output_ids"], g["generated_ids"]);
}

TEST(Cli, RunStreamsTextAndEmbeddedDefaultModelSaysItIsRandom) {
  const CliResult r = run_cli("run -p 'Give me a short introduction to large language models.' -n 12");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, golden_json("case1_text")["generated_text"].get<std::string>() + "\n");
  EXPECT_NE(r.err.find("random"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("-m"), std::string::npos) << r.err;
}

TEST(Cli, TokenizeMatchesGoldenTokenizerCases) {
  const Json cases = load_json_file(kGolden + "/tokenizer_cases.json")["cases"];
  int checked = 0;
  for (const auto& c : cases) {
    const std::string text = c["text"];
    if (text.find('\'') != std::string::npos || text.empty() || text.size() > 200 || checked == 12) continue;
    const CliResult r = run_cli("tokenize -m " + kFixture + " --json --text '" + text + "'");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(parse_json(r.out, "tokenize")["ids"], c["ids"]) << text;
    ++checked;
  }
  EXPECT_GE(checked, 10);
  const CliResult plain = run_cli("tokenize --text 'Hello world'");
  EXPECT_EQ(plain.out, "9707 1879\n");
  // --no-special keeps special-token text as plain text.
  const CliResult special = run_cli("tokenize --json --text '<|im_start|>'");
  EXPECT_EQ(parse_json(special.out, "tokenize")["ids"], Json::array({151644}));
  const CliResult literal = run_cli("tokenize --json --no-special --text '<|im_start|>'");
  EXPECT_GT(parse_json(literal.out, "tokenize")["ids"].size(), 1u);
}

TEST(Cli, DumpWritesGoldenTensors) {
  for (const std::string c : {"case1_text", "case2_one_image", "case3_two_images"}) {
    const std::string out = ::testing::TempDir() + "/" + c + ".dump.safetensors";
    const CliResult r = run_cli("dump -m " + kFixture + " --messages " + write_messages(c) + " -n 12 -o " + out);
    ASSERT_EQ(r.exit_code, 0) << c << ": " << r.err;
    SafetensorsFile mine(out), gold(kGolden + "/" + c + ".safetensors");
    auto ints = qwen3vl::testing::dumped_ints;
    for (const char* name : {"input_ids", "position_ids", "rope_deltas", "generated_ids"}) {
      ASSERT_TRUE(mine.has(name)) << c << " " << name;
      EXPECT_EQ(mine.get(name).shape, gold.get(name).shape) << c << " " << name;
      EXPECT_EQ(ints(mine.get(name)), ints(gold.get(name))) << c << " " << name;
    }
    auto max_diff = [&](const std::string& name) { return qwen3vl::testing::dumped_max_diff(mine, gold, name); };
    EXPECT_LE(max_diff("logits_last"), 1e-3f) << c;
    EXPECT_LE(max_diff("logits_first256"), 1e-3f) << c;
    if (c != "case1_text") {
      EXPECT_EQ(ints(mine.get("image_grid_thw")), ints(gold.get("image_grid_thw"))) << c;
      EXPECT_LE(max_diff("image_embeds"), 1e-4f) << c;
      EXPECT_LE(max_diff("deepstack_0"), 1e-4f) << c;
      EXPECT_LE(max_diff("deepstack_1"), 1e-4f) << c;
      EXPECT_LE(max_diff("vision_patch_embed"), 1e-4f) << c;
    }
    if (c == "case2_one_image") {
      EXPECT_LE(max_diff("pixel_values"), 1e-2f);
    }
  }
}

TEST(Cli, HelpOnEverySubcommand) {
  for (const char* cmd : {"run", "tokenize", "dump", "make-random-model"}) {
    const CliResult r = run_cli(std::string(cmd) + " --help");
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("usage: qwen3vl " + std::string(cmd)), std::string::npos) << cmd;
  }
  const CliResult top = run_cli("--help");
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_NE(top.out.find("run"), std::string::npos);
}

TEST(Cli, BadUsageAndBadInputGiveClearErrors) {
  struct Case {
    std::string args, fragment;
  } cases[] = {
      {"frobnicate", "unknown command"},
      {"run --bogus", "unknown option '--bogus'"},
      {"run -p hi -n many", "needs an integer"},
      {"run", "give a prompt"},
      {"run -m /nonexistent/model -p hi", "/nonexistent/model"},
      {"run -m " + kGolden + " -p hi", "no config.json"},
      {"run -p hi --image /nonexistent.png", "/nonexistent.png"},
      {"run -p hi --image " + kFixture + "/config.json", "image"},
      {"run -p hi --quant q3", "unknown weight format"},
      {"run -p hi --ctx 8", "context"},
      {"tokenize", "--text"},
      {"dump -p hi", "-o"},
  };
  for (const auto& c : cases) {
    const CliResult r = run_cli(c.args);
    EXPECT_NE(r.exit_code, 0) << c.args;
    EXPECT_TRUE(r.out.empty() || c.args.rfind("frob", 0) == 0) << c.args << " printed to stdout: " << r.out;
    EXPECT_NE(r.err.find(c.fragment), std::string::npos) << c.args << " -> " << r.err;
  }
}

TEST(Cli, ImageCountMismatchIsAClearError) {
  // Three images of different sizes but the text carries a fourth pad token.
  const std::string msgs = ::testing::TempDir() + "/mismatch.json";
  Json m = Json::array({{{"role", "user"},
                         {"content", Json::array({{{"type", "image"}, {"image", kGolden + "/img_400x300.png"}},
                                                  {{"type", "image"}, {"image", kGolden + "/img_240x520.jpg"}},
                                                  {{"type", "image"}, {"image", kGolden + "/img_640x360.png"}},
                                                  {{"type", "text"}, {"text", "extra <|image_pad|> here"}}})}}});
  std::ofstream(msgs) << m.dump();
  const CliResult r = run_cli("run -m " + kFixture + " --messages " + msgs + " -n 2");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("4 <|image_pad|> tokens but 3 images"), std::string::npos) << r.err;
}

TEST(Cli, ImageTokenBoundsOverrideThePreprocessorConfig) {
  // 400x300 gives 108 tokens by default. Capping at 30 tokens (30720 pixels):
  // beta = sqrt(120000/30720) = 1.976, rows floor(300/beta/32) = 4, columns
  // floor(400/beta/32) = 6, so 24 tokens.
  const CliResult capped = run_cli("run -m " + kFixture + " --image " + kGolden +
                                   "/img_400x300.png -p hi -n 1 --json --image-max-tokens 30");
  ASSERT_EQ(capped.exit_code, 0) << capped.err;
  EXPECT_EQ(parse_json(capped.out, "run")["timings"]["image_tokens"], 24);
  // A minimum of 400 tokens (409600 pixels) upscales it: beta = sqrt(409600/120000)
  // = 1.848, rows ceil(300*beta/32) = 18, columns ceil(400*beta/32) = 24: 432 tokens.
  const CliResult raised = run_cli("run -m " + kFixture + " --image " + kGolden +
                                   "/img_400x300.png -p hi -n 1 --json --image-min-tokens 400");
  ASSERT_EQ(raised.exit_code, 0) << raised.err;
  EXPECT_EQ(parse_json(raised.out, "run")["timings"]["image_tokens"], 432);
}

TEST(Cli, BenchJsonReportsTheProbeAndWhatDecodeStreamed) {
  const CliResult r = run_cli("bench --no-vision --prompt-tokens 8 --decode-tokens 3 --probe-mib 16 --threads 2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json j = Json::parse(r.out);
  EXPECT_GT(j["membw_gbps"].get<double>(), 0.1);
  EXPECT_NE(j["membw_method"].get<std::string>().find("2 threads"), std::string::npos) << j["membw_method"];
  const double streamed = j["weight_bytes_per_token"].get<double>() * j["decode_tps"].get<double>() / 1e9;
  EXPECT_NEAR(j["decode_stream_gbps"].get<double>(), streamed, 1e-9 * streamed + 1e-12);
  if (j["decode_exceeds_probe"].get<bool>()) {
    EXPECT_TRUE(j["decode_fraction_of_limit"].is_null());
    EXPECT_TRUE(j.contains("note"));
  } else {
    EXPECT_GT(j["decode_fraction_of_limit"].get<double>(), 0.0);
    EXPECT_LE(j["decode_fraction_of_limit"].get<double>(), 1.0);
  }
  EXPECT_NE(run_cli("bench --probe-mib 1 --json").err.find("--probe-mib"), std::string::npos);
}

// Class 1 of the hostile-input issue: nesting. Every JSON document from a
// file, stdin or the network is refused past kMaxJsonDepth levels before
// anything recurses over it, and documents built in code are checked before
// the walks that recurse (messages, chat template variables).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_test_util.h"
#include "test_util.h"
#include "qwen3vl/base/error.h"
#include "qwen3vl/base/json.h"
#include "qwen3vl/io/safetensors.h"
#include "qwen3vl/qwen3vl.h"
#include "qwen3vl/runtime/messages.h"
#include "qwen3vl/tokenizer/chat_template.h"
#include "qwen3vl/tokenizer/tokenizer.h"

using namespace qwen3vl;
namespace fs = std::filesystem;

static const std::string kFixture = QWEN3VL_FIXTURE_DIR;

namespace {

std::string nested_arrays(int depth, const std::string& inner = "1") {
  return std::string(static_cast<size_t>(depth), '[') + inner + std::string(static_cast<size_t>(depth), ']');
}

// A Json value `depth` containers deep, built in code (no parser involved).
Json built_nested(int depth) {
  Json j = 1;
  for (int i = 0; i < depth; ++i) {
    Json outer = Json::array();
    outer.push_back(std::move(j));
    j = std::move(outer);
  }
  return j;
}

std::string write_temp(const std::string& name, const std::string& text) {
  static const std::string dir = fresh_dir("json_limits");
  const std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

}  // namespace

TEST(JsonLimits, DepthIsCountedExactlyAtTheLimit) {
  EXPECT_EQ(parse_json(nested_arrays(kMaxJsonDepth), "x").dump().size(), 2u * kMaxJsonDepth + 1);
  const std::string e = error_of([] { parse_json(nested_arrays(kMaxJsonDepth + 1), "deep.json"); });
  EXPECT_NE(e.find("deep.json"), std::string::npos) << e;
  EXPECT_NE(e.find("nested deeper than 128"), std::string::npos) << e;
  // Objects count like arrays; brackets inside strings (escaped quotes too) do not.
  std::string objects;
  for (int i = 0; i < kMaxJsonDepth + 1; ++i) objects += "{\"k\":";
  objects += '1';
  objects.append(kMaxJsonDepth + 1, '}');
  EXPECT_NE(error_of([&] { parse_json(objects, "o"); }), "");
  EXPECT_EQ(parse_json("[\"[[[[\\\"[[[[\", {\"{{\": \"}}}\"}]", "s").size(), 2u);
  EXPECT_NE(error_of([] { parse_json("[1,", "truncated"); }).find("invalid JSON in truncated"), std::string::npos);
}

TEST(JsonLimits, AHundredThousandLevelsAreRefusedWithoutRecursing) {
  const std::string e = error_of([] { parse_json(nested_arrays(100000), "messages.json"); });
  EXPECT_NE(e.find("nested deeper than"), std::string::npos) << e;
}

TEST(JsonLimits, DocumentsBuiltInCodeAreCheckedBeforeRecursiveWalks) {
  check_json_depth(built_nested(kMaxJsonDepth), "ok");
  EXPECT_NE(error_of([] { check_json_depth(built_nested(kMaxJsonDepth + 1), "v"); }), "");
  // normalize_messages copies the document, the chat template converts it
  // to template values: both recurse, both refuse first.
  Json messages = Json::array({{{"role", "user"}, {"content", "hi"}}});
  messages[0]["extra"] = built_nested(kMaxJsonDepth + 5);
  EXPECT_NE(error_of([&] { normalize_messages(messages); }).find("nested deeper"), std::string::npos);
  const ChatTemplate tmpl = ChatTemplate::load_from_dir(kFixture);
  EXPECT_NE(error_of([&] { tmpl.render(messages, true); }).find("nested deeper"), std::string::npos);
  Json ok = Json::array({{{"role", "user"}, {"content", "hi"}}});
  EXPECT_NE(error_of([&] { tmpl.render(ok, true, {{"tools", built_nested(500)}}); }).find("nested deeper"),
            std::string::npos);
}

TEST(JsonLimits, TokenizerAndSafetensorsHeadersAreBounded) {
  const std::string deep_tokenizer = "{\"model\": " + nested_arrays(50000) + "}";
  EXPECT_NE(error_of([&] { Tokenizer::load_from_json(deep_tokenizer, "tok.json"); }).find("nested deeper"),
            std::string::npos);
  // A safetensors file whose header is a deep array.
  const std::string header = nested_arrays(50000);
  std::string bytes(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(bytes.data(), &n, 8);
  const std::string path = write_temp("deep.safetensors", bytes + header);
  const std::string e = error_of([&] { SafetensorsFile f(path); });
  EXPECT_NE(e.find("nested deeper"), std::string::npos) << e;
}

TEST(JsonLimits, CliRefusesDeepMessagesCleanly) {
  // Nested as a whole document, and as one message's content.
  const std::string whole = write_temp("deep_messages.json", nested_arrays(100000));
  const std::string content = write_temp(
      "deep_content.json", "[{\"role\":\"user\",\"content\":" + nested_arrays(100000, "\"x\"") + "}]");
  for (const std::string& path : {whole, content}) {
    ChildLimits limits;
    limits.address_space_bytes = uint64_t{4} << 30;
    const ChildResult r = run_cli_bounded("run --messages " + path + " -n 1", limits);
    EXPECT_TRUE(r.exited) << "killed by signal " << r.signal;
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("qwen3vl: error: " + path + ": JSON nested deeper than 128 levels"), std::string::npos)
        << r.err;
  }
  // The same through stdin.
  const CliResult r = run_cli("run --messages - -n 1", nested_arrays(100000));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("stdin: JSON nested deeper"), std::string::npos) << r.err;
}

TEST(JsonLimits, DeepConfigInACheckpointIsRefused) {
  const fs::path dir = fresh_dir("deep_config");
  for (const auto& e : fs::directory_iterator(kFixture))
    if (e.is_regular_file()) fs::create_symlink(e.path(), dir / e.path().filename());
  fs::remove(dir / "generation_config.json");
  std::ofstream(dir / "generation_config.json") << "{\"eos_token_id\": " << nested_arrays(20000) << "}";
  LoadOptions o;
  o.load_weights = false;
  const std::string e = error_of([&] { Model::load(dir.string(), o); });
  EXPECT_NE(e.find("generation_config.json: JSON nested deeper"), std::string::npos) << e;
}

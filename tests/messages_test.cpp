#include <gtest/gtest.h>

#include "qwen3vl/base/error.h"
#include "qwen3vl/runtime/messages.h"

using namespace qwen3vl;

TEST(Messages, CollectsImagesInOrderFromEveryPartForm) {
  const Json m = Json::parse(R"([
    {"role":"system","content":"sys"},
    {"role":"user","content":[{"type":"text","text":"a"},{"type":"image","image":"x.png"},
      {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},
    {"role":"assistant","content":"ok"},
    {"role":"user","content":[{"type":"image_url","image_url":"/abs/y.jpg"},{"type":"text","text":"b"}]}])");
  const auto n = normalize_messages(m, "/base");
  ASSERT_EQ(n.media.size(), 3u);
  EXPECT_EQ(n.media[0].source, "/base/x.png");
  EXPECT_EQ(n.media[1].source, "data:image/png;base64,AAAA");
  EXPECT_EQ(n.media[2].source, "/abs/y.jpg");
  EXPECT_EQ(n.messages[1]["content"][1]["type"], "image");
}

TEST(Messages, RejectsMalformedInputWithClearErrors) {
  auto expect_error = [](const char* json, const char* fragment) {
    try {
      normalize_messages(Json::parse(json));
      ADD_FAILURE() << "no error for " << json;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expect_error(R"({"role":"user"})", "array");
  expect_error(R"([])", "empty");
  expect_error(R"([{"role":"robot","content":"x"}])", "unknown role");
  expect_error(R"([{"role":"user","content":[{"type":"image"}]}])", "without a path");
  expect_error(R"([{"role":"user","content":[{"type":"video","video":"v.mp4"}]}])", "video");
  expect_error(R"([{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}])", "remote");
  expect_error(R"([{"role":"user","content":42}])", "string or a list");
}

TEST(Messages, CliShapePutsImagesBeforeText) {
  const Json m = make_user_messages("be brief", {"a.png", "b.png"}, "Describe.");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[1]["content"][0]["image"], "a.png");
  EXPECT_EQ(m[1]["content"][2]["text"], "Describe.");
}

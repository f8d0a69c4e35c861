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
  expect_error(R"([{"role":"user","content":[{"type":"video"}]}])", "video without a path");
  expect_error(R"([{"role":"user","content":[{"type":"video","video":[]}]}])", "empty frame list");
  expect_error(R"([{"role":"user","content":[{"type":"video","video":["a.png",3]}]}])", "frame list must hold");
  expect_error(R"([{"role":"user","content":[{"type":"video","video":"v.mp4","fps":2,"num_frames":4}]}])",
               "mutually exclusive");
  expect_error(R"([{"role":"user","content":[{"type":"video","video":"v.mp4","fps":0}]}])", "positive number");
  expect_error(R"([{"role":"user","content":[{"type":"video","video":"v.mp4","num_frames":1.5}]}])",
               "positive integer");
  expect_error(R"([{"role":"user","content":[{"type":"video_url","video_url":{"url":"https://x/v.mp4"}}]}])",
               "remote");
  expect_error(R"([{"role":"assistant","content":[{"type":"video","video":"v.mp4"}]}])", "user messages");
  expect_error(R"([{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}])", "remote");
  expect_error(R"([{"role":"user","content":42}])", "string or a list");
}

TEST(Messages, CollectsVideosInEveryPartForm) {
  const Json m = Json::parse(R"([{"role":"user","content":[
    {"type":"video","video":"clip.mp4","fps":4},
    {"type":"image","image":"x.png"},
    {"type":"video_url","video_url":{"url":"data:video/mp4;base64,AAAA"}},
    {"video":["f0.png","f1.png"],"num_frames":2},
    {"type":"text","text":"what happens?"}]}])");
  const auto n = normalize_messages(m, "/base");
  ASSERT_EQ(n.media.size(), 4u);
  EXPECT_EQ(n.media[0].kind, MediaKind::Video);
  EXPECT_EQ(n.media[0].source, "/base/clip.mp4");
  EXPECT_EQ(n.media[0].part["fps"], 4);
  EXPECT_EQ(n.media[1].kind, MediaKind::Image);
  EXPECT_EQ(n.media[2].source, "data:video/mp4;base64,AAAA");
  EXPECT_EQ(n.media[3].part["video"], Json::parse(R"(["f0.png","f1.png"])"));
  EXPECT_EQ(n.media[3].part["num_frames"], 2);
  // The template sees {"type":"video"} parts.
  EXPECT_EQ(n.messages[0]["content"][2]["type"], "video");
  EXPECT_EQ(n.messages[0]["content"][3]["type"], "video");
}

TEST(Messages, CliShapePutsImagesBeforeText) {
  const Json m = make_user_messages("be brief", {"a.png", "b.png"}, "Describe.");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[1]["content"][0]["image"], "a.png");
  EXPECT_EQ(m[1]["content"][2]["text"], "Describe.");
}

// Class 3 of the hostile-input issue: no costly work before validation. The
// prepare stage prices every image from its header and the resize rule,
// checks the whole prompt against the context, and only then decodes pixels;
// options are checked before anything runs.
#include <gtest/gtest.h>

#include <fstream>

#include "cli_test_util.h"
#include "image_test_util.h"
#include "test_util.h"
#include "qwen3vl/base/error.h"
#include "qwen3vl/image/data_uri.h"
#include "qwen3vl/qwen3vl.h"

using namespace qwen3vl;

static const std::string kFixture = QWEN3VL_FIXTURE_DIR;

namespace {

std::shared_ptr<Model> fixture_model() {
  static std::shared_ptr<Model> m = Model::load(kFixture);
  return m;
}

Json image_prompt(const std::vector<uint8_t>& png) {
  return Json::array({{{"role", "user"},
                       {"content", Json::array({{{"type", "image"}, {"image", make_data_uri("image/png", png.data(), png.size())}},
                                                {{"type", "text"}, {"text", "What is this?"}}})}}});
}

}  // namespace

TEST(WorkBeforeValidation, TheContextIsCheckedFromHeadersBeforeAnyPixelIsDecoded) {
  // A valid 8000 x 6000 PNG header over a body that cannot be decoded: 16170
  // image tokens by the resize rule, far over the fixture's context. Decoding
  // first would report the broken body instead of the prompt's length.
  const Json messages = image_prompt(image_test::png_with_header(8000, 6000, false));
  Session s(fixture_model());
  const std::string too_long = error_of([&] { s.prepare(messages, {}); });
  EXPECT_NE(too_long.find("the prompt is 16"), std::string::npos) << too_long;
  EXPECT_NE(too_long.find("context holds"), std::string::npos) << too_long;
  // With the image capped at 64 tokens it fits, so decoding runs and fails,
  // naming the image.
  GenerateOptions few;
  few.image.max_tokens = 64;
  const std::string undecodable = error_of([&] { s.prepare(messages, few); });
  EXPECT_EQ(undecodable.rfind("image 1: ", 0), 0u) << undecodable;
  EXPECT_EQ(undecodable.find("context"), std::string::npos) << undecodable;
}

TEST(WorkBeforeValidation, PreparedGridsAgreeWithTheDecodedPixels) {
  // The header's price is what the decoded image costs: the layout built
  // from it has one pad row per merged patch row of the pixels.
  Session s(fixture_model());
  const std::string image = kFixture + "/golden/img_240x520.jpg";
  const Json messages = Json::parse(R"([{"role":"user","content":[{"type":"image","image":")" + image +
                                    R"("},{"type":"text","text":"Hi"}]}])");
  const PreparedPrompt p = s.prepare(messages, {});
  ASSERT_EQ(p.media_count(), 1u);
  const MediaInfo info = p.media(0);
  EXPECT_EQ(info.tokens, info.grid_t * info.grid_h * info.grid_w / 4);
  EXPECT_EQ(p.image_tokens(), info.tokens);
}

TEST(WorkBeforeValidation, BadOptionsFailBeforeTheImageIsRead) {
  // The image does not exist; an option error must win.
  Session s(fixture_model());
  const Json messages = Json::parse(R"([{"role":"user","content":[{"type":"image","image":"/nonexistent.png"}]}])");
  GenerateOptions o;
  o.sampling.top_p = 2.0f;
  EXPECT_NE(error_of([&] { s.prepare(messages, o); }).find("top_p"), std::string::npos);
  GenerateOptions huge;
  huge.image.max_tokens = 1'000'000;
  EXPECT_NE(error_of([&] { s.prepare(messages, huge); }).find("image max_tokens"), std::string::npos);
  GenerateOptions both;
  both.video.fps = 2;
  both.video.num_frames = 8;
  EXPECT_NE(error_of([&] { s.prepare(messages, both); }).find("mutually exclusive"), std::string::npos);
}

TEST(WorkBeforeValidation, LargeZeroPngIsRefusedWithinAMemoryBound) {
  // 10000 x 10000 zeros: a few hundred KB of PNG that decode to 300 MB of
  // RGB plus the resize's float planes. Priced from the header it needs 16384
  // image tokens, over the default context, so the CLI refuses it in a child
  // limited to 768 MB of address space without decoding a row.
  const std::string dir = fresh_dir("zero_png");
  const std::string path = dir + "/zeros.png";
  const std::vector<uint8_t> png = image_test::zero_png(10000, 10000);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(png.data()), png.size());
  ChildLimits limits;
  limits.address_space_bytes = uint64_t{768} << 20;
  limits.alarm_seconds = 60;
  const ChildResult r = run_cli_bounded("run -q -m " + kFixture + " --image " + path + " -p hi -n 1", limits);
  ASSERT_TRUE(r.exited) << "killed by signal " << r.signal;
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("context holds"), std::string::npos) << r.err;
}

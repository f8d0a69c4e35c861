// Class 7 of the hostile-input issue: a messages file means the same images
// from any working directory (relative paths resolve against the file's
// directory only), and file:// URLs work.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_test_util.h"
#include "test_util.h"
#include "qwen3vl/base/json.h"

using namespace qwen3vl;
namespace fs = std::filesystem;

static const std::string kGolden = std::string(QWEN3VL_FIXTURE_DIR) + "/golden";

namespace {

std::string write_messages(const std::string& dir, const std::string& image) {
  const std::string path = dir + "/messages.json";
  std::ofstream(path) << Json::array({{{"role", "user"},
                                       {"content", Json::array({{{"type", "image"}, {"image", image}},
                                                                {{"type", "text"}, {"text", "hi"}}})}}})
                             .dump();
  return path;
}

int image_tokens(const ChildResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (r.exit_code != 0) return -1;
  return parse_json(r.out, "run")["timings"]["image_tokens"].get<int>();
}

}  // namespace

TEST(MessagePaths, RelativeImagesComeFromTheMessagesFilesDirectoryWhereverWeRun) {
  // Two images under the same name: 400x300 (108 tokens) next to the
  // messages, 640x360 in the working directory.
  const std::string messages_dir = fresh_dir("paths_messages");
  const std::string working_dir = fresh_dir("paths_cwd");
  fs::copy_file(kGolden + "/img_400x300.png", messages_dir + "/pic.png");
  fs::copy_file(kGolden + "/img_640x360.png", working_dir + "/pic.png");
  const std::string messages = write_messages(messages_dir, "pic.png");
  ChildLimits from_elsewhere;
  from_elsewhere.working_dir = working_dir;
  EXPECT_EQ(image_tokens(run_cli_bounded("run -n 1 --json --messages " + messages, from_elsewhere)), 108);
  ChildLimits from_there;
  from_there.working_dir = messages_dir;
  EXPECT_EQ(image_tokens(run_cli_bounded("run -n 1 --json --messages messages.json", from_there)), 108);
  // A relative path missing next to the file is not looked up in the working directory.
  fs::remove(messages_dir + "/pic.png");
  const ChildResult missing = run_cli_bounded("run -n 1 --json --messages " + messages, from_elsewhere);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find(messages_dir + "/pic.png"), std::string::npos) << missing.err;
}

TEST(MessagePaths, FileUrlsAreAccepted) {
  const std::string dir = fresh_dir("paths_url");
  fs::copy_file(kGolden + "/img_400x300.png", dir + "/my pic.png");
  const std::string messages = write_messages(dir, "file://" + dir + "/my%20pic.png");
  EXPECT_EQ(image_tokens(run_cli_bounded("run -n 1 --json --messages " + messages, {})), 108);
  const ChildResult flag = run_cli_bounded("run -n 1 --json -p hi --image 'file://" + dir + "/my%20pic.png'", {});
  EXPECT_EQ(image_tokens(flag), 108);
}

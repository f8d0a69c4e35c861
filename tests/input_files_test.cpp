// Class 2 of the hostile-input issue: what a path names. Files read whole
// (messages, configs, tokenizer, chat templates) and images must be regular
// files, checked without blocking; files read into memory are size-capped.
// Each CLI case runs in a child with an address-space limit and an alarm, so
// a regression shows as a kill (blocked forever, or memory without end)
// rather than a hung test run.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cli_test_util.h"
#include "test_util.h"
#include "qwen3vl/base/error.h"
#include "qwen3vl/base/mapped_file.h"
#include "qwen3vl/base/regular_file.h"
#include "qwen3vl/qwen3vl.h"

using namespace qwen3vl;
namespace fs = std::filesystem;

static const std::string kFixture = QWEN3VL_FIXTURE_DIR;

namespace {

std::string make_fifo(const std::string& name) {
  const std::string path = fresh_dir(name + "_dir") + "/" + name;
  EXPECT_EQ(::mkfifo(path.c_str(), 0600), 0);
  return path;
}

// A file of `bytes` bytes that occupies no disk (sparse).
std::string sparse_file(const std::string& name, uint64_t bytes) {
  const std::string path = fresh_dir(name + "_dir") + "/" + name;
  std::ofstream(path) << "[";
  fs::resize_file(path, bytes);
  return path;
}

ChildLimits bounded() {
  ChildLimits l;
  l.address_space_bytes = uint64_t{2} << 30;
  l.alarm_seconds = 60;
  return l;
}

void expect_refused(const ChildResult& r, const std::string& fragment, const std::string& what) {
  EXPECT_TRUE(r.exited) << what << ": killed by signal " << r.signal << " (hung or ran out of memory)";
  EXPECT_EQ(r.exit_code, 1) << what << ": " << r.err;
  EXPECT_NE(r.err.find("qwen3vl: error: "), std::string::npos) << what << ": " << r.err;
  EXPECT_NE(r.err.find(fragment), std::string::npos) << what << ": " << r.err;
}

}  // namespace

TEST(InputFiles, NonRegularFilesAreNamedForWhatTheyAre) {
  const std::string dir = fresh_dir("not_regular");
  EXPECT_NE(error_of([&] { read_text_file(dir); }).find(dir + " is a directory, not a regular file"),
            std::string::npos);
  EXPECT_NE(error_of([] { read_text_file("/dev/zero"); }).find("/dev/zero is a character device"),
            std::string::npos);
  // Opening a FIFO with no writer returns at once instead of blocking.
  const std::string fifo = make_fifo("lib.fifo");
  EXPECT_NE(error_of([&] { read_text_file(fifo); }).find("is a FIFO"), std::string::npos);
  EXPECT_NE(error_of([&] { MappedFile m(fifo); }).find("is a FIFO"), std::string::npos);
  EXPECT_NE(error_of([] { read_text_file("/nonexistent/x.json"); }).find("No such file"), std::string::npos);
}

TEST(InputFiles, FilesReadIntoMemoryAreCapped) {
  EXPECT_EQ(max_text_file_bytes(), uint64_t{256} << 20);
  const std::string big = sparse_file("big.json", (uint64_t{256} << 20) + 1);
  const std::string e = error_of([&] { read_text_file(big); });
  EXPECT_NE(e.find("larger than the 256 MiB limit"), std::string::npos) << e;
  EXPECT_NE(e.find("QWEN3VL_MAX_FILE_MB"), std::string::npos) << e;
  // The override, both ways.
  const std::string two_mib = sparse_file("two.json", uint64_t{2} << 20);
  ::setenv("QWEN3VL_MAX_FILE_MB", "1", 1);
  EXPECT_NE(error_of([&] { read_text_file(two_mib); }).find("1 MiB limit"), std::string::npos);
  ::setenv("QWEN3VL_MAX_FILE_MB", "3", 1);
  EXPECT_EQ(read_text_file(two_mib).size(), uint64_t{2} << 20);
  ::setenv("QWEN3VL_MAX_FILE_MB", "lots", 1);
  EXPECT_NE(error_of([&] { read_text_file(two_mib); }).find("QWEN3VL_MAX_FILE_MB must be"), std::string::npos);
  ::unsetenv("QWEN3VL_MAX_FILE_MB");
}

TEST(InputFiles, CliRefusesDevicesFifosDirectoriesAndHugeFiles) {
  const std::string fifo = make_fifo("messages.fifo");
  const std::string dir = fresh_dir("messages_dir");
  expect_refused(run_cli_bounded("run --messages /dev/zero", bounded()), "/dev/zero is a character device",
                 "messages /dev/zero");
  expect_refused(run_cli_bounded("run --messages " + fifo, bounded()), "is a FIFO", "messages FIFO");
  expect_refused(run_cli_bounded("run --messages " + dir, bounded()), "is a directory", "messages directory");
  expect_refused(run_cli_bounded("run --messages " + sparse_file("huge.json", uint64_t{300} << 20), bounded()),
                 "larger than the 256 MiB limit", "huge messages");
  // Images: the FIFO must not block open(), /dev/zero must not be mapped.
  expect_refused(run_cli_bounded("run -p hi --image " + fifo, bounded()), "is a FIFO", "image FIFO");
  expect_refused(run_cli_bounded("run -p hi --image /dev/zero", bounded()), "character device", "image /dev/zero");
  expect_refused(run_cli_bounded("run -p hi --image " + dir, bounded()), "is a directory", "image directory");
}

TEST(InputFiles, StdinIsCappedToo) {
  // An endless stdin (/dev/zero) stops at the cap instead of growing memory.
  ChildLimits l = bounded();
  l.extra_env = "QWEN3VL_MAX_FILE_MB=4";
  l.stdin_path = "/dev/zero";
  const ChildResult r = run_cli_bounded("run --messages -", l);
  expect_refused(r, "stdin is larger than the 4 MiB limit", "stdin /dev/zero");
}

TEST(InputFiles, CheckpointFilesThatAreNotRegularAreRefused) {
  // A checkpoint whose config.json is a FIFO and one whose tokenizer.json is a directory.
  for (const std::string name : {"config.json", "tokenizer.json", "chat_template.json"}) {
    const fs::path dir = fresh_dir("odd_checkpoint_" + name);
    for (const auto& e : fs::directory_iterator(kFixture))
      if (e.is_regular_file() && e.path().filename() != name) fs::create_symlink(e.path(), dir / e.path().filename());
    ASSERT_EQ(::mkfifo((dir / name).c_str(), 0600), 0);
    expect_refused(run_cli_bounded("tokenize -m " + dir.string() + " --text hi", bounded()), "is a FIFO", name);
  }
}

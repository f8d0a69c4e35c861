// Classes 5 and 6 of the hostile-input issue: what we write. Output files go
// through a fresh temporary file in the target directory and a rename, so a
// planted symlink is never followed and a failed write leaves nothing behind;
// a failed write to stdout is an error, a closed pipe a quiet SIGPIPE.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "cli_test_util.h"
#include "test_util.h"
#include "qwen3vl/base/atomic_file.h"
#include "qwen3vl/base/error.h"

using namespace qwen3vl;
namespace fs = std::filesystem;

static const std::string kFixture = QWEN3VL_FIXTURE_DIR;

namespace {

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST(OutputFiles, AtomicFileReplacesASymlinkInsteadOfWritingThroughIt) {
  const std::string dir = fresh_dir("atomic_symlink");
  const std::string victim = dir + "/victim.txt";
  std::ofstream(victim) << "precious";
  fs::create_symlink(victim, dir + "/out.bin");
  write_file_atomically(dir + "/out.bin", "new contents");
  EXPECT_EQ(slurp(victim), "precious");
  EXPECT_FALSE(fs::is_symlink(dir + "/out.bin"));
  EXPECT_EQ(slurp(dir + "/out.bin"), "new contents");
  EXPECT_EQ(names_in(dir), (std::vector<std::string>{"out.bin", "victim.txt"}));
  // Permissions as a plain open(0666) under the umask would give, not mkstemp's 0600.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  EXPECT_EQ(static_cast<mode_t>(fs::status(dir + "/out.bin").permissions()) & 0777, 0666 & ~mask);
}

TEST(OutputFiles, AtomicFileLeavesNothingBehindWhenNotCommitted) {
  const std::string dir = fresh_dir("atomic_abandon");
  std::ofstream(dir + "/out.bin") << "old";
  {
    AtomicFile f(dir + "/out.bin");
    f.write("half of it");
    EXPECT_EQ(names_in(dir).size(), 2u);  // the old file and the temporary one
  }
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"out.bin"});
  EXPECT_EQ(slurp(dir + "/out.bin"), "old");
  // What a signal handler does: the pending temporary file goes.
  AtomicFile pending(dir + "/other.bin");
  pending.write("x");
  ASSERT_TRUE(fs::exists(pending.temporary_path()));
  remove_pending_temporary_files();
  EXPECT_FALSE(fs::exists(pending.temporary_path()));
  // Writing into a directory that is the target, or a missing directory, is a clear error.
  EXPECT_THROW(AtomicFile f(dir), Error);
  EXPECT_THROW(AtomicFile f(dir + "/missing/x.bin"), Error);
}

TEST(OutputFiles, DumpIgnoresPlantedLinksAndLeavesNoHalfFile) {
  const std::string dir = fresh_dir("dump_out");
  const std::string victim = dir + "/victim.txt";
  std::ofstream(victim) << "precious";
  // The old attack: <out>.tmp planted as a link to another file.
  fs::create_symlink(victim, dir + "/out.safetensors.tmp");
  const CliResult ok = run_cli("dump -m " + kFixture + " -p hi -n 1 -o " + dir + "/out.safetensors");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(slurp(victim), "precious");
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(dir + "/out.safetensors")));
  // A write that fails half way (file size limit): exit 1, no output, no temporary file.
  const std::string failing = fresh_dir("dump_fail");
  ChildLimits limits;
  limits.file_size_bytes = 4096;
  const ChildResult r = run_cli_bounded("dump -m " + kFixture + " -p hi -n 1 -o " + failing + "/out.safetensors", limits);
  EXPECT_TRUE(r.exited) << r.signal;
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("qwen3vl: error: error writing " + failing + "/out.safetensors"), std::string::npos) << r.err;
  EXPECT_TRUE(names_in(failing).empty()) << names_in(failing).front();
}

TEST(OutputFiles, QuantizeOutputIsAtomicToo) {
  const std::string dir = fresh_dir("quantize_out");
  const std::string victim = dir + "/victim.txt";
  std::ofstream(victim) << "precious";
  fs::create_symlink(victim, dir + "/model.qwen3vl.tmp");
  fs::create_symlink(victim, dir + "/model.qwen3vl");
  const CliResult r = run_cli("quantize -q -m " + kFixture + " -o " + dir + "/model.qwen3vl --quant q8");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(slurp(victim), "precious");
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(dir + "/model.qwen3vl")));
  EXPECT_GT(fs::file_size(dir + "/model.qwen3vl"), 1000u);
}

TEST(OutputFiles, AtomicDirectoryAppearsWholeAndReplacesOnlyDirectories) {
  const std::string dir = fresh_dir("atomic_dir");
  const std::string out = dir + "/export";
  {  // a free name
    AtomicDirectory d(out);
    std::ofstream(d.temporary_path() + "/a.txt") << "one";
    EXPECT_FALSE(fs::exists(out));
    d.commit();
  }
  EXPECT_EQ(slurp(out + "/a.txt"), "one");
  const mode_t mask = ::umask(0);
  ::umask(mask);
  EXPECT_EQ(static_cast<mode_t>(fs::status(out).permissions()) & 0777, 0777 & ~mask);
  {  // an existing directory is exchanged in one step, then the old one goes
    AtomicDirectory d(out);
    fs::create_directories(d.temporary_path() + "/sub");
    std::ofstream(d.temporary_path() + "/sub/b.txt") << "two";
    d.commit();
  }
  EXPECT_FALSE(fs::exists(out + "/a.txt"));
  EXPECT_EQ(slurp(out + "/sub/b.txt"), "two");
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"export"});
  // A symlink at the name is replaced, the directory it points to untouched.
  const std::string victim = fresh_dir("atomic_dir_victim");
  std::ofstream(victim + "/keep.txt") << "precious";
  fs::create_symlink(victim, dir + "/linked");
  {
    AtomicDirectory d(dir + "/linked");
    std::ofstream(d.temporary_path() + "/c.txt") << "three";
    d.commit();
  }
  EXPECT_FALSE(fs::is_symlink(dir + "/linked"));
  EXPECT_EQ(slurp(dir + "/linked/c.txt"), "three");
  EXPECT_EQ(names_in(victim), std::vector<std::string>{"keep.txt"});
  // A file that is not a directory is never replaced.
  std::ofstream(dir + "/plain") << "file";
  {
    AtomicDirectory d(dir + "/plain");
    EXPECT_NE(error_of([&] { d.commit(); }).find("cannot replace " + dir + "/plain: it is a regular file"),
              std::string::npos);
  }
  EXPECT_EQ(slurp(dir + "/plain"), "file");
  // Abandoned, or removed by what a signal handler calls: nothing stays.
  {
    AtomicDirectory d(dir + "/abandoned");
    std::ofstream(d.temporary_path() + "/x") << "x";
  }
  AtomicDirectory pending(dir + "/interrupted");
  fs::create_directories(pending.temporary_path() + "/onnx");
  std::ofstream(pending.temporary_path() + "/onnx/model.onnx") << "half";
  std::ofstream(pending.temporary_path() + "/config.json") << "{}";
  remove_pending_temporary_files();
  EXPECT_FALSE(fs::exists(pending.temporary_path()));
  EXPECT_EQ(names_in(dir), (std::vector<std::string>{"export", "linked", "plain"}));
}

// export-onnx writes a directory through AtomicDirectory: a planted link at
// the output is replaced, not followed; a write that fails half way (file
// size limit) leaves the earlier export as it was and no temporary
// directory; a directory that is not an export is never replaced.
TEST(OutputFiles, ExportOnnxIsAtomicAndNeverFollowsAPlantedLink) {
  const std::string dir = fresh_dir("export_out");
  const std::string victim = fresh_dir("export_victim");
  std::ofstream(victim + "/keep.txt") << "precious";
  fs::create_symlink(victim, dir + "/onnx");
  const CliResult ok = run_cli("export-onnx -q --text-only -m " + kFixture + " -o " + dir + "/onnx");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(names_in(victim), std::vector<std::string>{"keep.txt"});
  ASSERT_FALSE(fs::is_symlink(dir + "/onnx"));
  EXPECT_TRUE(fs::exists(dir + "/onnx/model.onnx"));
  EXPECT_TRUE(fs::exists(dir + "/onnx/genai_config.json"));
  const std::string model_bytes = slurp(dir + "/onnx/model.onnx");

  ChildLimits limits;
  limits.file_size_bytes = 64 * 1024;
  const ChildResult failed =
      run_cli_bounded("export-onnx -q -m " + kFixture + " -o " + dir + "/onnx --layout transformers.js", limits);
  EXPECT_TRUE(failed.exited) << failed.signal;
  EXPECT_EQ(failed.exit_code, 1) << failed.err;
  EXPECT_NE(failed.err.find("qwen3vl: error: "), std::string::npos) << failed.err;
  EXPECT_NE(failed.err.find("File too large"), std::string::npos) << failed.err;
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"onnx"});  // no temporary directory left
  EXPECT_EQ(slurp(dir + "/onnx/model.onnx"), model_bytes);    // the earlier export untouched
  EXPECT_FALSE(fs::exists(dir + "/onnx/onnx"));

  std::ofstream(dir + "/notes.txt") << "mine";
  const CliResult refused = run_cli("export-onnx -q --text-only -m " + kFixture + " -o " + dir);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("holds files that are not an ONNX export"), std::string::npos) << refused.err;
  EXPECT_EQ(slurp(dir + "/notes.txt"), "mine");
}

// Ctrl-C while export-onnx writes: the signal handler removes the temporary
// directory (remove_pending_temporary_files) before the process dies, so the
// parent holds nothing. The signal is sent as soon as the temporary directory
// exists, i.e. while the export is under way; if the export still finished
// first, only the complete export may be there.
TEST(OutputFiles, ExportOnnxInterruptedByCtrlCLeavesNothingBehind) {
  const std::string dir = fresh_dir("export_sigint");
  const std::string out = dir + "/out";
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::execl(QWEN3VL_CLI_PATH, "qwen3vl", "export-onnx", "-q", "--layout", "transformers.js", "-m", kFixture.c_str(),
            "-o", out.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  bool under_way = false;
  for (int i = 0; i < 200000 && !under_way; ++i) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().filename().string().rfind(".out.", 0) == 0) under_way = true;
    if (!under_way) ::usleep(50);
  }
  ::kill(pid, SIGINT);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(under_way) << "the export never created its temporary directory";
  if (WIFSIGNALED(status)) {
    EXPECT_EQ(WTERMSIG(status), SIGINT);
    EXPECT_TRUE(names_in(dir).empty()) << names_in(dir).front();
  } else {
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_EQ(names_in(dir), std::vector<std::string>{"out"});
  }
}

TEST(StandardOutput, AFullDiskIsAnErrorNotASilentSuccess) {
  for (const std::string args : {"run -p hi -n 3", "run -p hi -n 3 --json", "tokenize --text hi", "--version"}) {
    ChildLimits limits;
    limits.stdout_path = "/dev/full";
    const ChildResult r = run_cli_bounded(args, limits);
    EXPECT_TRUE(r.exited) << args;
    EXPECT_EQ(r.exit_code, 1) << args << ": " << r.err;
    EXPECT_NE(r.err.find("qwen3vl: error: cannot write to standard output: No space left on device"),
              std::string::npos) << args << ": " << r.err;
  }
}

TEST(StandardOutput, AClosedPipeEndsQuietlyBySigpipe) {
  for (const bool ignored : {false, true}) {
    ChildLimits limits;
    limits.close_stdout_pipe = true;
    limits.ignore_sigpipe = ignored;  // even a parent that ignores SIGPIPE sees the conventional end
    const ChildResult r = run_cli_bounded("run -q -p hi -n 20", limits);
    EXPECT_FALSE(r.exited) << "exit code " << r.exit_code << ", ignored " << ignored;
    EXPECT_EQ(r.signal, SIGPIPE) << "ignored " << ignored;
    EXPECT_EQ(r.err, "") << "ignored " << ignored;
  }
}

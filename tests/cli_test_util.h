// Runs the qwen3vl binary as a user would and captures what it prints.
#pragma once
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "qwen3vl/base/json.h"

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `args` is appended to the binary path as shell words (callers quote).
inline CliResult run_cli(const std::string& args, const std::string& stdin_text = "") {
  static int counter = 0;
  const std::string base = ::testing::TempDir() + "/cli_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  std::string cmd = std::string(QWEN3VL_CLI_PATH) + " " + args + " >" + base + ".out 2>" + base + ".err";
  if (!stdin_text.empty()) {
    std::ofstream(base + ".in") << stdin_text;
    cmd += " <" + base + ".in";
  } else {
    cmd += " </dev/null";
  }
  CliResult r;
  const int status = std::system(cmd.c_str());
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(base + ".out");
  r.err = slurp(base + ".err");
  return r;
}

// Runs `run -m MODEL --messages MESSAGES EXTRA -n 12 --temp 0 --json` and
// checks the prompt ids, generated ids and text against `golden` (a case
// JSON of a fixture's golden/ folder); `label` names the case in failures.
// Returns run's JSON output (null when the run failed).
inline qwen3vl::Json expect_run_matches_golden(const std::string& model, const std::string& messages,
                                               const qwen3vl::Json& golden, const std::string& label,
                                               const std::string& extra_args = "") {
  const CliResult r = run_cli("run -m " + model + " --messages " + messages + extra_args + " -n 12 --temp 0 --json");
  EXPECT_EQ(r.exit_code, 0) << label << ": " << r.err;
  if (r.exit_code != 0) return nullptr;
  const qwen3vl::Json out = qwen3vl::parse_json(r.out, "run --json");
  EXPECT_EQ(out["prompt_ids"], golden["input_ids"]) << label;
  EXPECT_EQ(out["output_ids"], golden["generated_ids"]) << label;
  EXPECT_EQ(out["text"], golden["generated_text_skip_special"]) << label;
  return out;
}

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

// How a bounded child runs: limits set with setrlimit in the child before it
// execs (so a runaway allocation fails instead of swapping the machine) and
// an alarm that kills it if it blocks or spins (a pending alarm survives
// exec). Nothing here measures time: a run either ends by itself or is
// killed, and the test asserts which.
struct ChildLimits {
  uint64_t address_space_bytes = 0;  // RLIMIT_AS, 0 = unlimited
  uint64_t file_size_bytes = 0;      // RLIMIT_FSIZE, 0 = unlimited (SIGXFSZ then ignored)
  unsigned alarm_seconds = 120;
  bool ignore_sigpipe = false;       // as some parents (servers, nohup) leave it
  bool close_stdout_pipe = false;    // stdout is a pipe whose reader has gone
  std::string working_dir;           // chdir before exec when non-empty
  std::string extra_env;             // NAME=value put into the environment
  std::string stdin_path = "/dev/null";
  std::string stdout_path;           // default: a file the result's `out` is read from
};

struct ChildResult {
  bool exited = false;  // else killed by a signal
  int exit_code = -1;
  int signal = 0;
  std::string out, err;
};

// Runs the CLI with `args` (shell words, callers quote) under `limits`.
inline ChildResult run_cli_bounded(const std::string& args, const ChildLimits& limits) {
  static int counter = 0;
  const std::string base =
      ::testing::TempDir() + "/bounded_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  int pipe_fds[2] = {-1, -1};
  if (limits.close_stdout_pipe && ::pipe(pipe_fds) != 0) return {};
  std::string command = "exec " + std::string(QWEN3VL_CLI_PATH) + " " + args + " 2>" + base + ".err <" + limits.stdin_path;
  if (!limits.close_stdout_pipe) command += " >" + (limits.stdout_path.empty() ? base + ".out" : limits.stdout_path);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (limits.close_stdout_pipe) {
      ::close(pipe_fds[0]);  // nobody will ever read
      ::dup2(pipe_fds[1], 1);
      ::close(pipe_fds[1]);
    }
    if (!limits.working_dir.empty() && ::chdir(limits.working_dir.c_str()) != 0) ::_exit(126);
    if (limits.address_space_bytes) {
      const rlimit r{limits.address_space_bytes, limits.address_space_bytes};
      ::setrlimit(RLIMIT_AS, &r);
    }
    if (limits.file_size_bytes) {
      const rlimit r{limits.file_size_bytes, limits.file_size_bytes};
      ::setrlimit(RLIMIT_FSIZE, &r);
      ::signal(SIGXFSZ, SIG_IGN);  // a write past the limit then fails with EFBIG
    }
    ::signal(SIGPIPE, limits.ignore_sigpipe ? SIG_IGN : SIG_DFL);
    if (!limits.extra_env.empty()) ::putenv(const_cast<char*>(limits.extra_env.c_str()));
    ::alarm(limits.alarm_seconds);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  if (limits.close_stdout_pipe) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ChildResult r;
  r.exited = WIFEXITED(status);
  r.exit_code = r.exited ? WEXITSTATUS(status) : -1;
  r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  r.out = slurp(base + ".out");
  r.err = slurp(base + ".err");
  return r;
}

// Writes the messages of golden case `c` (golden_dir/c.json) to a temporary
// file, image paths made absolute, and returns its path.
inline std::string write_golden_messages(const std::string& golden_dir, const std::string& c) {
  static int counter = 0;
  const std::string path = ::testing::TempDir() + "/" + c + "_" + std::to_string(::getpid()) + "_" +
                           std::to_string(counter++) + ".messages.json";
  qwen3vl::Json m = qwen3vl::load_json_file(golden_dir + "/" + c + ".json")["messages"];
  for (auto& msg : m)
    if (msg["content"].is_array())
      for (auto& part : msg["content"])
        if (part.contains("image")) part["image"] = golden_dir + "/" + part["image"].get<std::string>();
  std::ofstream(path) << m.dump();
  return path;
}

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

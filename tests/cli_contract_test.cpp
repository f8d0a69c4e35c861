// What a careful user sees of the CLI: --version, exit status 2 for usage
// errors and 1 for runtime errors, one error style, notes said once, thread
// counts capped (class 4 of the hostile-input issue), options validated
// before the model loads, and why an answer stopped.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_test_util.h"
#include "test_util.h"
#include "qwen3vl/base/json.h"
#include "qwen3vl/base/thread_pool.h"

using namespace qwen3vl;
namespace fs = std::filesystem;

static const std::string kFixture = QWEN3VL_FIXTURE_DIR;

namespace {

size_t count_of(const std::string& text, const std::string& fragment) {
  size_t n = 0;
  for (size_t at = text.find(fragment); at != std::string::npos; at = text.find(fragment, at + 1)) ++n;
  return n;
}

}  // namespace

TEST(CliContract, VersionPrintsTheVersionAndTheKernels) {
  const CliResult r = run_cli("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("qwen3vl 0.1.0 (kernels: ", 0), 0u) << r.out;
}

TEST(CliContract, UsageErrorsExitTwoRuntimeErrorsExitOne) {
  struct Case {
    std::string args;
    int status;
    std::string fragment;
  } cases[] = {
      {"", 2, "usage: qwen3vl"},
      {"frobnicate", 2, "qwen3vl: error: unknown command 'frobnicate'"},
      {"run --bogus", 2, "qwen3vl: error: unknown option '--bogus' (see qwen3vl run --help)"},
      {"run -p hi -n many", 2, "--max-tokens needs an integer, got 'many'"},
      {"run -p hi -n -1", 2, "--max-tokens must be at least 0, got -1"},
      {"run -p hi --top-p 2", 2, "top_p must be in (0, 1], got 2"},
      {"run -p hi --temp nan", 2, "--temp needs a finite number"},
      {"run -p hi --temp -1", 2, "temperature must be >= 0, got -1"},
      {"run -p hi --min-p 1.5", 2, "min_p must be in [0, 1]"},
      {"run -p hi --repeat-penalty 0", 2, "repetition_penalty must be > 0"},
      {"run -p hi --stop ''", 2, "stop strings must not be empty"},
      {"run -p hi --image-max-tokens 1000000", 2, "--image-max-tokens must be between 0 and 262144"},
      {"run -p hi --image-min-tokens 500 --image-max-tokens 100", 2, "min_tokens (500) exceeds max_tokens (100)"},
      {"run -p hi --threads 0", 2, "--threads must be between 1 and"},
      {"run -p hi --threads -4", 2, "--threads must be between 1 and"},
      {"run -p hi --ctx 0", 2, "--ctx must be at least 1"},
      {"run", 2, "give a prompt"},
      {"dump -p hi", 2, "dump needs -o"},
      {"tokenize", 2, "tokenize needs --text"},
      {"export-onnx -o out", 2, "export-onnx needs -m DIR and -o DIR"},
      {"prepare-inputs -m x", 2, "prepare-inputs needs -m DIR and -o FILE"},
      {"make-random-model --preset 4b --layers 1 -o /nonexistent/x", 2, "--layers must be between 3"},
      {"serve --port 70000", 2, "--port must be between 0 and 65535, got 70000"},
      {"serve --parallel 0", 2, "--parallel must be between 1 and 1024, got 0"},
      {"serve --max-body -5", 2, "--max-body must be at least 1, got -5"},
      {"run -m /nonexistent/model -p hi", 1, "qwen3vl: error: model path /nonexistent/model does not exist"},
      {"run -p hi --image /nonexistent.png", 1, "/nonexistent.png"},
      {"run -p hi --ctx 300000", 1, "context length 300000 (--ctx) is above the model's max_position_embeddings of 262144"},
  };
  for (const auto& c : cases) {
    const CliResult r = run_cli(c.args);
    EXPECT_EQ(r.exit_code, c.status) << c.args << " -> " << r.err;
    EXPECT_NE(r.err.find(c.fragment), std::string::npos) << c.args << " -> " << r.err;
    if (!c.args.empty()) {
      EXPECT_EQ(count_of(r.err, "error"), 1u) << c.args << " -> " << r.err;
    }
    EXPECT_TRUE(r.out.empty()) << c.args << " printed to stdout: " << r.out;
  }
}

TEST(CliContract, BadOptionsAreRefusedBeforeTheModelLoads) {
  // The model path does not exist: an option error must come first.
  const CliResult r = run_cli("run -m /nonexistent/model -p hi --top-p 2");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("top_p"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("/nonexistent/model"), std::string::npos) << r.err;
  // Malformed messages too.
  const std::string msgs = fresh_dir("robot") + "/robot.json";
  std::ofstream(msgs) << R"([{"role":"robot","content":"x"}])";
  const CliResult m = run_cli("run -m /nonexistent/model --messages " + msgs);
  EXPECT_EQ(m.exit_code, 1);
  EXPECT_NE(m.err.find("unknown role"), std::string::npos) << m.err;
}

TEST(CliContract, ThreadsAboveTheHardwareAreCappedWithOneNote) {
  ChildLimits limits;
  limits.alarm_seconds = 60;  // a million threads would not finish
  const ChildResult r = run_cli_bounded("run -p hi -n 2 --threads 1000000", limits);
  ASSERT_TRUE(r.exited) << r.signal;
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string note = "--threads 1000000 is more than the " + std::to_string(ThreadPool::hardware_threads()) +
                           " hardware threads here; using " + std::to_string(ThreadPool::hardware_threads());
  EXPECT_EQ(count_of(r.err, note), 1u) << r.err;
  const CliResult exact = run_cli("run -q -p hi -n 2 --threads " + std::to_string(ThreadPool::hardware_threads()));
  EXPECT_EQ(exact.exit_code, 0);
  EXPECT_EQ(exact.err, "");
}

TEST(CliContract, RandomModelNoticeIsOneShortLine) {
  const CliResult r = run_cli("run -p hi -n 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_of(r.err, "random weights"), 1u) << r.err;
  const size_t at = r.err.find("random weights");
  const size_t line_start = r.err.rfind('\n', at) == std::string::npos ? 0 : r.err.rfind('\n', at) + 1;
  EXPECT_LT(r.err.find('\n', at) - line_start, 120u) << r.err;
  EXPECT_EQ(run_cli("run -q -p hi -n 1").err, "");
}

TEST(CliContract, FinishReasonSaysWhetherTheContextOrMaxTokensEndedIt) {
  // The golden text prompt: its greedy answer has no end-of-text in the first
  // dozen tokens, and its chat prompt is shorter than 24 tokens.
  const std::string prompt = "-p 'Give me a short introduction to large language models.'";
  const CliResult full = run_cli("run " + prompt + " -n 100 --ctx 24 --json");
  ASSERT_EQ(full.exit_code, 0) << full.err;
  const Json answer = parse_json(full.out, "run");
  EXPECT_EQ(answer["finish_reason"], "context_full");
  EXPECT_EQ(answer["prompt_ids"].size() + answer["output_ids"].size(), 24u);
  const CliResult capped = run_cli("run " + prompt + " -n 2 --json");
  ASSERT_EQ(capped.exit_code, 0) << capped.err;
  EXPECT_EQ(parse_json(capped.out, "run")["finish_reason"], "length");
  const CliResult streamed_full = run_cli("run " + prompt + " -n 100 --ctx 24");
  EXPECT_NE(streamed_full.err.find("the context of 24 tokens is full (raise --ctx)"), std::string::npos)
      << streamed_full.err;
  const CliResult streamed_capped = run_cli("run " + prompt + " -n 2");
  EXPECT_NE(streamed_capped.err.find("stopped at -n 2 tokens"), std::string::npos) << streamed_capped.err;
}

TEST(CliContract, HelpDescribesTheLimits) {
  const CliResult top = run_cli("--help");
  for (const char* fragment : {"exit status", "2 usage error", "128 levels", "256 MiB", "QWEN3VL_MAX_FILE_MB",
                               "178,956,970 pixels", "hardware threads", "max_position_embeddings"})
    EXPECT_NE(top.out.find(fragment), std::string::npos) << fragment;
  const CliResult run = run_cli("run --help");
  for (const char* fragment : {"JPEG, PNG, WebP", "file://", "resolve against", "file's directory", "262144"})
    EXPECT_NE(run.out.find(fragment), std::string::npos) << fragment;
}

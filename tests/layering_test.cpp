// The library's layers point one way: base -> tensor -> kernels -> io ->
// weights -> model -> runtime -> public API, with tokenizer, image and video
// beside model. This test reads every #include "qwen3vl/..." under
// src/qwen3vl/ and fails on one that points up or sideways, so each layer
// stays readable and testable without the ones above it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>

namespace fs = std::filesystem;

namespace {

// The folders each folder of src/qwen3vl/ may include from (itself included).
// "api" is the public header, qwen3vl/qwen3vl.h.
const std::map<std::string, std::set<std::string>>& allowed_includes() {
  static const std::map<std::string, std::set<std::string>> table = {
      {"base", {"base"}},
      {"tensor", {"base", "tensor"}},
      {"kernels", {"base", "tensor", "kernels"}},
      {"io", {"base", "tensor", "io"}},
      {"weights", {"base", "tensor", "kernels", "io", "weights"}},
      {"tokenizer", {"base", "tensor", "tokenizer"}},
      {"image", {"base", "tensor", "kernels", "image"}},
      {"video", {"base", "tensor", "kernels", "image", "video"}},
      {"model", {"base", "tensor", "kernels", "io", "weights", "model"}},
      {"runtime",
       {"base", "tensor", "kernels", "io", "weights", "tokenizer", "image", "video", "model", "runtime", "api"}},
      {"export",
       {"base", "tensor", "kernels", "io", "weights", "tokenizer", "image", "video", "model", "runtime", "api",
        "export"}},
      // Public API pieces beside the main one: hub resolves names to paths and
      // converts checkpoints (runtime's model files); grounding draws answers.
      {"hub", {"base", "io", "runtime", "api", "hub"}},
      {"grounding", {"base", "tensor", "image", "api", "grounding"}},
  };
  return table;
}

// The checkout's root: the fixture directory is <root>/tests/fixtures/tiny-qwen3vl.
fs::path source_root() { return fs::path(QWEN3VL_FIXTURE_DIR).parent_path().parent_path().parent_path(); }

}  // namespace

TEST(Layering, LibraryIncludesPointDownward) {
  const fs::path lib = source_root() / "src" / "qwen3vl";
  ASSERT_TRUE(fs::is_directory(lib)) << lib;
  const std::regex include_line(R"(^\s*#\s*include\s*"qwen3vl/([A-Za-z0-9_]+)(/|\.h"))");
  size_t files = 0, includes = 0;
  for (const auto& entry : fs::recursive_directory_iterator(lib)) {
    if (!entry.is_regular_file()) continue;
    const std::string ext = entry.path().extension().string();
    if (ext != ".h" && ext != ".cpp") continue;
    const std::string folder = fs::relative(entry.path(), lib).begin()->string();
    const auto rule = allowed_includes().find(folder);
    if (rule == allowed_includes().end()) {
      ADD_FAILURE() << "src/qwen3vl/" << folder << "/ is not in the layer table of tests/layering_test.cpp: "
                    << "add it with the layers it may include";
      continue;
    }
    ++files;
    std::ifstream in(entry.path());
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
      std::smatch m;
      if (!std::regex_search(line, m, include_line)) continue;
      ++includes;
      const std::string target = m[2] == "/" ? m[1].str() : "api";
      EXPECT_TRUE(rule->second.count(target))
          << fs::relative(entry.path(), source_root()).string() << ":" << number << " (" << folder
          << ") includes from " << target << ": " << line;
    }
  }
  EXPECT_GT(files, 50u);
  EXPECT_GT(includes, 100u);
}

// Models by name: pulling from a mock Hub on loopback into the Hugging Face
// cache layout, resuming, refusing corrupt files, explaining 401/404, listing,
// and running the pulled model by name offline, converted once for --quant.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "cli_test_util.h"
#include "mock_hub.h"
#include "qwen3vl/base/json.h"
#include "qwen3vl/hub.h"

namespace fs = std::filesystem;
using namespace qwen3vl;

namespace {

const std::string kFixture = QWEN3VL_FIXTURE_DIR;
const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";

// The tiny fixture as a Hub repo, plus files pull must skip.
MockHub::Repo fixture_repo() {
  MockHub::Repo r;
  r.commit = kCommit;
  for (const char* f : {"config.json", "generation_config.json", "preprocessor_config.json", "tokenizer.json",
                        "tokenizer_config.json", "chat_template.json", "model.safetensors"})
    r.files[f] = slurp(kFixture + "/" + f);
  r.files["pytorch_model.bin"] = std::string(1000, 'x');
  r.files["README.md"] = "# tiny";
  r.files["onnx/model.onnx"] = "not needed";
  return r;
}

// A scratch HF cache and qwen3vl cache per test, and the Hub address, in the
// environment the CLI children inherit.
class HubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "/hub_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
    fs::create_directories(root_);
    ::setenv("HF_ENDPOINT", hub_.endpoint().c_str(), 1);
    ::setenv("HF_HUB_CACHE", (root_ + "/hf").c_str(), 1);
    ::setenv("QWEN3VL_CACHE", (root_ + "/qwen3vl").c_str(), 1);
    ::unsetenv("HF_TOKEN");
    ::unsetenv("HF_HUB_OFFLINE");
    ::setenv("HF_HOME", (root_ + "/hf_home").c_str(), 1);  // no token file there
    hub_.add_repo("tiny-org/tiny-qwen3vl", fixture_repo());
  }
  void TearDown() override {
    for (const char* v : {"HF_ENDPOINT", "HF_HUB_CACHE", "QWEN3VL_CACHE", "HF_TOKEN", "HF_HUB_OFFLINE", "HF_HOME"})
      ::unsetenv(v);
    fs::remove_all(root_);
  }
  std::string repo_dir() const { return root_ + "/hf/models--tiny-org--tiny-qwen3vl"; }
  std::string blob_of(const std::string& file) {
    const std::string content = fixture_repo().files.at(file);
    return repo_dir() + "/blobs/" +
           (file == "model.safetensors" ? MockHub::sha256(content) : MockHub::git_oid(content));
  }
  int count_requests(const std::string& prefix) {
    int n = 0;
    for (const auto& r : hub_.requests()) n += r.rfind(prefix, 0) == 0;
    return n;
  }

  MockHub hub_;
  std::string root_;
};

}  // namespace

TEST(HubModelName, ParsesNamesAndRevisions) {
  auto n = HubModelName::parse("Qwen/Qwen3-VL-4B-Instruct");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->repo_id, "Qwen/Qwen3-VL-4B-Instruct");
  EXPECT_EQ(n->revision, "main");
  n = HubModelName::parse("Qwen/Qwen3-VL-4B-Instruct@refs/pr/3");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->revision, "refs/pr/3");
  EXPECT_EQ(n->str(), "Qwen/Qwen3-VL-4B-Instruct@refs/pr/3");
  for (const char* bad : {"model-dir", "/abs/path", "a/b/c", "./x/y", "a/..", "a--b/c", "-a/b", "a/b@", "a/b@../x", "a b/c"})
    EXPECT_FALSE(HubModelName::parse(bad)) << bad;
}

TEST(HubSettingsTest, CacheRootFollowsHuggingFaceVariables) {
  ::setenv("HF_HOME", "/tmp/hfhome", 1);
  ::unsetenv("HF_HUB_CACHE");
  ::unsetenv("HUGGINGFACE_HUB_CACHE");
  EXPECT_EQ(HubSettings::from_environment().cache_root, "/tmp/hfhome/hub");
  ::setenv("HF_HUB_CACHE", "/tmp/hubcache", 1);
  EXPECT_EQ(HubSettings::from_environment().cache_root, "/tmp/hubcache");
  ::unsetenv("HF_HUB_CACHE");
  ::unsetenv("HF_HOME");
  ::setenv("HF_ENDPOINT", "http://mirror.example/", 1);
  EXPECT_EQ(HubSettings::from_environment().endpoint, "http://mirror.example");
  ::unsetenv("HF_ENDPOINT");
}

TEST_F(HubTest, PullWritesTheHuggingFaceCacheLayoutAndRunsByNameOffline) {
  const CliResult pull = run_cli("pull tiny-org/tiny-qwen3vl -q");
  ASSERT_EQ(pull.exit_code, 0) << pull.err;
  const std::string snapshot = repo_dir() + "/snapshots/" + kCommit;
  EXPECT_EQ(pull.out, snapshot + "\n");
  EXPECT_EQ(slurp(repo_dir() + "/refs/main"), kCommit);
  // LFS files are stored under their sha256, others under their git object id;
  // the snapshot holds relative links to them.
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json"}) {
    ASSERT_TRUE(fs::is_symlink(snapshot + "/" + f)) << f;
    EXPECT_EQ(fs::read_symlink(snapshot + "/" + f).string(),
              "../../blobs/" + fs::path(blob_of(f)).filename().string());
    EXPECT_EQ(slurp(snapshot + "/" + f), slurp(kFixture + "/" + f)) << f;
  }
  EXPECT_FALSE(fs::exists(snapshot + "/pytorch_model.bin"));
  EXPECT_FALSE(fs::exists(snapshot + "/README.md"));
  EXPECT_EQ(count_requests("GET /tiny-org/tiny-qwen3vl/resolve/" + kCommit + "/pytorch_model.bin"), 0);
  EXPECT_EQ(count_requests("GET /tiny-org/tiny-qwen3vl/resolve/" + kCommit + "/onnx"), 0);

  // Pulling again fetches nothing but the file list.
  hub_.clear_requests();
  ASSERT_EQ(run_cli("pull tiny-org/tiny-qwen3vl -q").exit_code, 0);
  EXPECT_EQ(count_requests("GET /tiny-org/tiny-qwen3vl/resolve"), 0);

  // By name, offline: same answer as the directory.
  hub_.clear_requests();
  ::setenv("HF_HUB_OFFLINE", "1", 1);
  const CliResult by_name = run_cli("run -m tiny-org/tiny-qwen3vl -p hello -n 4 --temp 0 --json");
  const CliResult by_dir = run_cli("run -m " + kFixture + " -p hello -n 4 --temp 0 --json");
  ASSERT_EQ(by_name.exit_code, 0) << by_name.err;
  EXPECT_EQ(parse_json(by_name.out, "out")["output_ids"], parse_json(by_dir.out, "out")["output_ids"]);
  EXPECT_TRUE(hub_.requests().empty());
  const CliResult missing = run_cli("run -m tiny-org/never-pulled -p hi -n 1");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("HF_HUB_OFFLINE"), std::string::npos) << missing.err;

  const CliResult list = run_cli("list --json");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const Json models = parse_json(list.out, "list");
  ASSERT_EQ(models.size(), 1u);
  EXPECT_EQ(models[0]["repo_id"], "tiny-org/tiny-qwen3vl");
  EXPECT_EQ(models[0]["refs"]["main"], kCommit);
  uint64_t expected = 0;
  for (const char* f : {"config.json", "generation_config.json", "preprocessor_config.json", "tokenizer.json",
                        "tokenizer_config.json", "chat_template.json", "model.safetensors"})
    expected += fs::file_size(kFixture + "/" + f);
  EXPECT_EQ(models[0]["bytes"].get<uint64_t>(), expected);
}

TEST_F(HubTest, RunByNamePullsWhenMissingAndConvertsOnceForQuant) {
  const CliResult first = run_cli("run -m tiny-org/tiny-qwen3vl --quant q8 -p hello -n 3 --temp 0 --json");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string converted_dir = root_ + "/qwen3vl/converted/models--tiny-org--tiny-qwen3vl/" + kCommit;
  ASSERT_TRUE(fs::exists(converted_dir));
  int files = 0;
  for (const auto& e : fs::directory_iterator(converted_dir)) files += e.path().extension() == ".qwen3vl";
  EXPECT_EQ(files, 1);
  const CliResult second = run_cli("run -m tiny-org/tiny-qwen3vl --quant q8 -p hello -n 3 --temp 0 --json");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(parse_json(first.out, "out")["output_ids"], parse_json(second.out, "out")["output_ids"]);
  const CliResult list = run_cli("list --json");
  EXPECT_EQ(parse_json(list.out, "list")[0]["converted"].size(), 1u);
}

TEST_F(HubTest, InterruptedTransferResumesWithARangeRequest) {
  hub_.cut_next_transfer("model.safetensors");
  const CliResult pull = run_cli("pull tiny-org/tiny-qwen3vl -q");
  ASSERT_EQ(pull.exit_code, 0) << pull.err;
  const size_t size = fs::file_size(kFixture + "/model.safetensors");
  int ranged = 0;
  for (const auto& r : hub_.requests())
    ranged += r.find("/cdn/") != std::string::npos && r.find(" bytes=" + std::to_string(size / 2) + "-") != std::string::npos;
  EXPECT_EQ(ranged, 1);
  EXPECT_EQ(slurp(blob_of("model.safetensors")), slurp(kFixture + "/model.safetensors"));
}

TEST_F(HubTest, PartialFileFromAnEarlierRunIsResumed) {
  const std::string content = fixture_repo().files.at("model.safetensors");
  fs::create_directories(repo_dir() + "/blobs");
  std::ofstream(blob_of("model.safetensors") + ".incomplete", std::ios::binary) << content.substr(0, 1000);
  const CliResult pull = run_cli("pull tiny-org/tiny-qwen3vl -q");
  ASSERT_EQ(pull.exit_code, 0) << pull.err;
  int ranged = 0;
  for (const auto& r : hub_.requests()) ranged += r.find("/cdn/") != std::string::npos && r.find(" bytes=1000-") != std::string::npos;
  EXPECT_EQ(ranged, 1) << ::testing::PrintToString(hub_.requests());
  EXPECT_EQ(slurp(blob_of("model.safetensors")), content);
  EXPECT_FALSE(fs::exists(blob_of("model.safetensors") + ".incomplete"));
}

TEST_F(HubTest, CorruptFileIsRefusedAndNotLinked) {
  hub_.corrupt("model.safetensors");
  const CliResult pull = run_cli("pull tiny-org/tiny-qwen3vl -q");
  EXPECT_NE(pull.exit_code, 0);
  EXPECT_NE(pull.err.find("model.safetensors of tiny-org/tiny-qwen3vl arrived corrupt"), std::string::npos) << pull.err;
  EXPECT_NE(pull.err.find("sha256"), std::string::npos);
  EXPECT_FALSE(fs::exists(blob_of("model.safetensors")));
  EXPECT_FALSE(fs::exists(blob_of("model.safetensors") + ".incomplete"));
  EXPECT_FALSE(fs::exists(repo_dir() + "/snapshots/" + kCommit + "/model.safetensors"));
  EXPECT_FALSE(fs::exists(repo_dir() + "/refs/main"));
}

TEST_F(HubTest, MissingAndGatedModelsAreExplained) {
  const CliResult missing = run_cli("pull tiny-org/does-not-exist -q");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("tiny-org/does-not-exist was not found"), std::string::npos) << missing.err;

  MockHub::Repo gated = fixture_repo();
  gated.gated = true;
  hub_.add_repo("tiny-org/gated", gated);
  hub_.set_token("secret-token");
  const CliResult denied = run_cli("pull tiny-org/gated -q");
  EXPECT_NE(denied.exit_code, 0);
  EXPECT_NE(denied.err.find("is gated"), std::string::npos) << denied.err;
  EXPECT_NE(denied.err.find("HF_TOKEN"), std::string::npos) << denied.err;
  ::setenv("HF_TOKEN", "secret-token", 1);
  const CliResult allowed = run_cli("pull tiny-org/gated -q");
  EXPECT_EQ(allowed.exit_code, 0) << allowed.err;

  const CliResult no_revision = run_cli("pull tiny-org/tiny-qwen3vl@v9 -q");
  EXPECT_NE(no_revision.exit_code, 0);
  EXPECT_NE(no_revision.err.find("no such revision"), std::string::npos) << no_revision.err;
}

// The conversation logic of `qwen3vl chat` (src/cli/chat_conversation,
// chat_stats): the messages it builds, image attachment from typed and
// pasted paths, /save and /load, the /stats figures; and, over a real
// Session on the tiny fixture, that a next turn prefills only what is new and
// answers as a fresh session would.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include <filesystem>
#include <fstream>

#include "cli/chat_conversation.h"
#include "cli/chat_stats.h"
#include "cli_test_util.h"
#include "error_of.h"
#include "qwen3vl/qwen3vl.h"

namespace fs = std::filesystem;
using namespace qwen3vl;
using qwen3vl::cli::ChatConversation;
using qwen3vl::cli::pasted_image_path;
using qwen3vl::testing::error_of;

namespace {

const std::string kFixture = QWEN3VL_FIXTURE_DIR;
const std::string kImage = kFixture + "/golden/img_400x300.png";

// A scratch directory per test, removed afterwards.
class ChatConversationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("chat_conv_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string file(const std::string& name, const std::string& content = "x") const {
    const std::string p = (dir_ / name).string();
    std::ofstream(p) << content;
    return p;
  }
  fs::path dir_;
};

std::string message_text(const Json& m) { return m["content"].is_string() ? m["content"].get<std::string>() : ""; }

}  // namespace

TEST_F(ChatConversationTest, StartsWithTheSystemMessageAndResetsToIt) {
  ChatConversation c("be brief");
  ASSERT_EQ(c.messages().size(), 1u);
  EXPECT_EQ(c.messages()[0], Json({{"role", "system"}, {"content", "be brief"}}));
  c.add_user("hi");
  c.add_assistant("hello");
  c.attach_image(kImage);
  EXPECT_EQ(c.messages().size(), 3u);
  c.reset();
  EXPECT_EQ(c.messages().size(), 1u);
  EXPECT_TRUE(c.pending_images().empty());
  EXPECT_EQ(ChatConversation().messages(), Json::array());
}

TEST_F(ChatConversationTest, AttachedImagesGoBeforeTheTextOfTheNextUserMessageOnly) {
  const std::string a = file("a.png"), b = file("b.jpg");
  ChatConversation c;
  c.attach_image(a);
  c.attach_image(b);
  EXPECT_EQ(c.pending_images(), (std::vector<std::string>{a, b}));
  c.add_user("compare them");
  EXPECT_TRUE(c.pending_images().empty());
  c.add_assistant("they differ");
  c.add_user("why?");
  const Json expected = Json::array(
      {{{"role", "user"},
        {"content", Json::array({{{"type", "image"}, {"image", a}},
                                 {{"type", "image"}, {"image", b}},
                                 {{"type", "text"}, {"text", "compare them"}}})}},
       {{"role", "assistant"}, {"content", "they differ"}},
       {{"role", "user"}, {"content", "why?"}}});
  EXPECT_EQ(c.messages(), expected);
  EXPECT_EQ(c.last_image(), b);
  EXPECT_EQ(c.last_answer(), "they differ");
}

TEST_F(ChatConversationTest, ImagePathsAreStoredAbsoluteFromRelativeQuotedAndFileUrls) {
  const std::string spaced = file("my photo é.png");
  ChatConversation c;
  c.attach_image("'" + spaced + "'");
  c.attach_image("file://" + (dir_ / "my%20photo%20%C3%A9.png").string());
  c.attach_image("file://localhost" + spaced);
  const fs::path old = fs::current_path();
  fs::current_path(dir_);
  c.attach_image("  ./my photo é.png ");
  fs::current_path(old);
  ASSERT_EQ(c.pending_images().size(), 4u);
  for (const std::string& p : c.pending_images()) EXPECT_EQ(p, spaced);
}

TEST_F(ChatConversationTest, AttachRefusesWhatIsNotAFileNamingIt) {
  ChatConversation c;
  EXPECT_EQ(error_of([&] { c.attach_image("/no/such/image.png"); }), "no image file at /no/such/image.png");
  EXPECT_EQ(error_of([&] { c.attach_image(dir_.string()); }), dir_.string() + " is not a regular file");
  EXPECT_EQ(error_of([&] { c.attach_image("  "); }), "/image needs a file path (or a file:// URL)");
  EXPECT_TRUE(c.pending_images().empty());
}

TEST_F(ChatConversationTest, DropLastUserRemovesOnlyAFailedUserTurn) {
  ChatConversation c;
  c.add_user("one");
  c.add_assistant("two");
  c.drop_last_user();  // the last message is the assistant's: kept
  EXPECT_EQ(c.messages().size(), 2u);
  c.attach_image(kImage);
  c.add_user("three");
  c.drop_last_user();
  ASSERT_EQ(c.messages().size(), 2u);
  EXPECT_EQ(message_text(c.messages()[1]), "two");
  EXPECT_TRUE(c.pending_images().empty());
}

TEST_F(ChatConversationTest, SaveThenLoadGivesTheSameConversation) {
  ChatConversation c("sys");
  c.attach_image(kImage);
  c.add_user("what is it?");
  c.add_assistant("a picture \"quoted\" ünïcode");
  const std::string path = (dir_ / "conv.json").string();
  c.save(path);
  EXPECT_EQ(load_json_file(path), c.messages());
  ChatConversation d;
  d.attach_image(kImage);  // dropped by the load
  d.load(path);
  EXPECT_EQ(d.messages(), c.messages());
  EXPECT_TRUE(d.pending_images().empty());
  EXPECT_EQ(d.base_dir(), dir_.string());
  EXPECT_EQ(d.last_image(), kImage);
}

TEST_F(ChatConversationTest, LoadedRelativeImagePathsReferToTheFilesDirectory) {
  const std::string img = file("near.png");
  const std::string path = file("conv.json", R"([{"role":"user","content":[{"type":"image","image":"near.png"},
                                                  {"type":"text","text":"and this?"}]}])");
  ChatConversation c;
  c.load(path);
  EXPECT_EQ(c.last_image(), img);
  c.reset();
  EXPECT_EQ(c.base_dir(), "");
}

TEST_F(ChatConversationTest, LoadRefusesBadFilesAndKeepsTheConversation) {
  ChatConversation c;
  c.add_user("keep me");
  const std::string not_array = file("a.json", R"({"role":"user"})");
  const std::string bad_role = file("b.json", R"([{"role":"robot","content":"x"}])");
  const std::string bad_json = file("c.json", R"([{"role":)");
  EXPECT_NE(error_of([&] { c.load(not_array); }).find(not_array + ": messages must be a JSON array"), std::string::npos);
  EXPECT_NE(error_of([&] { c.load(bad_role); }).find("unknown role \"robot\""), std::string::npos);
  EXPECT_NE(error_of([&] { c.load(bad_json); }).find(bad_json), std::string::npos);
  EXPECT_NE(error_of([&] { c.load((dir_ / "missing.json").string()); }).find("missing.json"), std::string::npos);
  ASSERT_EQ(c.messages().size(), 1u);
  EXPECT_EQ(message_text(c.messages()[0]), "keep me");
}

TEST_F(ChatConversationTest, SaveNamesAnUnwritablePlace) {
  ChatConversation c;
  const std::string target = (dir_ / "no_such_dir" / "conv.json").string();
  const std::string error = error_of([&] { c.save(target); });
  EXPECT_NE(error.find(target), std::string::npos) << error;
  EXPECT_NE(error.find("No such file or directory"), std::string::npos) << error;
}

// Hostile-input class 5: /save replaces a planted symlink instead of writing
// through it, and a write that fails half way leaves the old file as it was
// and no temporary file.
TEST_F(ChatConversationTest, SaveNeverFollowsAPlantedLinkNorLeavesAHalfFile) {
  ChatConversation c("sys");
  c.add_user("hello");
  const std::string victim = file("victim.txt", "precious");
  const std::string path = (dir_ / "conv.json").string();
  fs::create_symlink(victim, path);
  c.save(path);
  EXPECT_EQ(slurp(victim), "precious");
  EXPECT_FALSE(fs::is_symlink(path));
  EXPECT_EQ(load_json_file(path), c.messages());

  // A conversation larger than the file size limit the child runs under: the
  // write fails with EFBIG (SIGXFSZ ignored), save throws, the child says so.
  c.add_assistant(std::string(64 * 1024, 'x'));
  const std::string before = slurp(path);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const rlimit limit{16 * 1024, 16 * 1024};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    ::signal(SIGXFSZ, SIG_IGN);
    try {
      c.save(path);
    } catch (const Error& e) {
      ::_exit(std::string(e.what()).find("error writing " + path) != std::string::npos ? 3 : 4);
    }
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3) << "3: save failed naming the file; 0: it did not fail; 4: another message";
  EXPECT_EQ(slurp(path), before);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"conv.json", "victim.txt"}));
}

TEST_F(ChatConversationTest, APastedLineIsAnImageOnlyWhenItIsAnImageFilesPath) {
  const std::string png = file("Shot 1.PNG"), txt = file("notes.txt");
  EXPECT_EQ(pasted_image_path(png), png);
  EXPECT_EQ(pasted_image_path("  '" + png + "' "), png);
  EXPECT_EQ(pasted_image_path("file://" + (dir_ / "Shot%201.PNG").string()), png);
  EXPECT_EQ(pasted_image_path(kImage), kImage);
  EXPECT_EQ(pasted_image_path(txt), "");                              // not an image
  EXPECT_EQ(pasted_image_path((dir_ / "gone.png").string()), "");     // no such file
  EXPECT_EQ(pasted_image_path("describe " + kImage), "");             // a message naming a file
  EXPECT_EQ(pasted_image_path("/image " + kImage), "");               // a command
  EXPECT_EQ(pasted_image_path("img_400x300.png"), "");                // bare words are text
  const fs::path old = fs::current_path();
  fs::current_path(dir_);
  EXPECT_EQ(pasted_image_path("./Shot 1.PNG"), "./Shot 1.PNG");
  fs::current_path(old);
}

TEST(ChatStats, FiguresAreDerivedFromTheTurn) {
  GenerationResult r;
  r.prompt_ids.assign(100, 1);
  r.output_ids.assign(11, 2);
  r.reused_tokens = 80;
  r.prefilled_tokens = 20;
  r.encoded_media = 1;
  r.cached_media = 2;
  r.timings.prefill_ms = 40;
  r.timings.decode_ms = 200;
  r.timings.vision_ms = 7;
  r.timings.ttft_ms = 55;
  const cli::ChatTurnStats s = cli::turn_stats(r);
  EXPECT_DOUBLE_EQ(s.prefill_tps(), 500.0);  // 20 tokens in 40 ms
  EXPECT_DOUBLE_EQ(s.decode_tps(), 50.0);    // 10 tokens after the first in 200 ms
  EXPECT_EQ(cli::format_chat_stats(130, 4096, &s),
            "context: 130 of 4096 tokens\n"
            "last turn: prompt 100 tokens: 80 reused from the cache (80%), 20 prefilled in 40 ms (500.0 tok/s)\n"
            "           answer 11 tokens in 200 ms (50.0 tok/s), first token after 55 ms\n"
            "           images: 1 encoded (7 ms), 2 from the encoding cache\n");
  EXPECT_EQ(cli::format_chat_stats(0, 4096, nullptr), "context: 0 of 4096 tokens\nno answer yet\n");
  r.text = "hi";
  r.finish_reason = "length";
  const Json j = cli::chat_answer_json(r, false);
  EXPECT_EQ(j, Json({{"text", "hi"}, {"finish_reason", "length"}, {"prompt_tokens", 100}, {"reused_tokens", 80},
                     {"prefilled_tokens", 20}, {"answer_tokens", 11}, {"prefill_tps", 500.0}, {"decode_tps", 50.0},
                     {"ttft_ms", 55.0}}));
  EXPECT_EQ(cli::chat_answer_json(r, true)["finish_reason"], "interrupted");
  cli::ChatTurnStats untimed;
  untimed.answer_tokens = 1;
  untimed.decode_ms = 3;
  EXPECT_EQ(untimed.prefill_tps(), 0.0);
  EXPECT_EQ(untimed.decode_tps(), 0.0);  // one token: no decode step to time
}

// The chat's turns over one Session: each next turn prefills only the tokens
// its prompt does not share with what the cache holds (the previous prompt
// and answer), and answers exactly as a fresh session given the whole
// conversation.
TEST(ChatTurns, ANextTurnPrefillsOnlyWhatIsNewAndAnswersAsAFreshSession) {
  auto model = Model::load(kFixture);
  GenerateOptions o;
  o.max_tokens = 8;
  o.sampling.temperature = 0.0f;
  Session session(model);
  ChatConversation chat("You are terse.");

  // What the cache holds after a turn: prompt and answer, except a last
  // sampled token that was never fed back (generation ran out of budget).
  auto cached_after = [](const GenerationResult& r) {
    std::vector<int32_t> rows = r.prompt_ids;
    const size_t fed = r.output_ids.size() - (r.finish_reason == "length" && !r.output_ids.empty() ? 1 : 0);
    rows.insert(rows.end(), r.output_ids.begin(), r.output_ids.begin() + fed);
    return rows;
  };
  auto common_prefix = [](const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
    size_t n = 0;
    while (n < a.size() && n + 1 < b.size() && a[n] == b[n]) ++n;
    return static_cast<int64_t>(n);
  };

  std::vector<int32_t> cached;
  int64_t previous_prompt_tokens = 0;
  const char* turns[] = {"hello there", "now look at this picture", "and once more?"};
  for (int t = 0; t < 3; ++t) {
    SCOPED_TRACE(turns[t]);
    if (t == 1) chat.attach_image(kImage);
    chat.add_user(turns[t]);
    const GenerationResult r = session.generate(chat.messages(), o);
    Session fresh(model);
    const GenerationResult f = fresh.generate(chat.messages(), o);
    EXPECT_EQ(r.output_ids, f.output_ids);
    EXPECT_EQ(r.text, f.text);
    EXPECT_EQ(r.prompt_ids, f.prompt_ids);
    EXPECT_EQ(f.reused_tokens, 0);
    const int64_t expected_reuse = common_prefix(cached, r.prompt_ids);
    EXPECT_EQ(r.reused_tokens, expected_reuse);
    EXPECT_EQ(r.prefilled_tokens, static_cast<int64_t>(r.prompt_ids.size()) - expected_reuse);
    // At least the whole previous prompt is reused: only the re-rendered
    // answer and the new turn are computed.
    EXPECT_GE(r.reused_tokens, previous_prompt_tokens);
    EXPECT_GT(r.prefilled_tokens, 0);
    if (t == 2) {
      EXPECT_EQ(r.encoded_media, 0);  // the image lies in the reused prefix
      EXPECT_EQ(r.cached_media, 0);
    }
    chat.add_assistant(r.text);
    cached = cached_after(r);
    previous_prompt_tokens = static_cast<int64_t>(r.prompt_ids.size());
  }
}

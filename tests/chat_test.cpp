// `qwen3vl chat` as users drive it: scripted through stdin (one message per
// line; answers checked against `run` on the same conversation), and
// interactively in a pseudo-terminal (tmux): type with line editing, attach
// images, interrupt answers, recall history, save, reset, reload, leave.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "cli_test_util.h"
#include "qwen3vl/base/json.h"

namespace fs = std::filesystem;
using namespace qwen3vl;

namespace {

const std::string kFixture = QWEN3VL_FIXTURE_DIR;
const std::string kImage = kFixture + "/golden/img_400x300.png";

std::string scratch_dir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("chat_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

// The greedy answer `run` gives to `messages` (a fresh session).
std::string run_answer(const Json& messages, const std::string& path, int max_tokens) {
  std::ofstream(path) << messages.dump();
  const CliResult r =
      run_cli("run -m " + kFixture + " --messages " + path + " -n " + std::to_string(max_tokens) + " --temp 0 --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? parse_json(r.out, "run --json")["text"].get<std::string>() : "";
}

std::string command_output(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

// One command running in a pseudo-terminal of a private tmux server, driven
// by keystrokes as a user would type them.
class Tmux {
 public:
  explicit Tmux(const std::string& command) : socket_("qwen3vl_chat_test_" + std::to_string(::getpid())) {
    ok_ = std::system((tmux() + " new-session -d -s chat -x 200 -y 50 " + quoted(command)).c_str()) == 0;
  }
  ~Tmux() { std::system((tmux() + " kill-server 2>/dev/null").c_str()); }
  bool ok() const { return ok_; }
  void keys(const std::string& keys) { std::system((tmux() + " send-keys -t chat " + keys).c_str()); }
  void text(const std::string& text) { keys("-l " + quoted(text)); }
  void line(const std::string& line) {
    text(line);
    keys("Enter");
  }
  std::string screen() const { return command_output(tmux() + " capture-pane -p -J -S -1000 -t chat 2>/dev/null"); }
  bool alive() const { return std::system((tmux() + " has-session -t chat 2>/dev/null").c_str()) == 0; }
  // Waits until the screen (with its scrollback) holds `text` `count` times.
  bool wait_for(const std::string& text, int count = 1, int seconds = 60) const {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < end) {
      if (occurrences(screen(), text) >= count) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  // Waits until an answer streams: `chars` bytes printed after the last
  // occurrence of `line` (the message as echoed at the prompt).
  bool wait_for_answer_to(const std::string& line, size_t chars = 40, int seconds = 60) const {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < end) {
      const std::string s = screen();
      const size_t at = s.rfind(line + "\n");
      if (at != std::string::npos && s.find_last_not_of(" \n") > at + line.size() + chars) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  static int occurrences(const std::string& s, const std::string& text) {
    int n = 0;
    for (size_t p = s.find(text); p != std::string::npos; p = s.find(text, p + 1)) ++n;
    return n;
  }

 private:
  static std::string quoted(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  }
  std::string tmux() const { return "tmux -L " + socket_ + " -f /dev/null"; }
  std::string socket_;
  bool ok_ = false;
};

}  // namespace

TEST(Chat, ScriptedTurnsAnswerAsRunDoesOnTheSameConversationAndReuseTheCache) {
  const std::string dir = scratch_dir("scripted");
  const std::string saved = dir + "/saved.json";
  const CliResult r = run_cli("chat -m " + kFixture + " -n 6 --temp 0 -q",
                              "hello there\n\n/image " + kImage + "\nwhat is this?\n/stats\n/save " + saved + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");  // -q: no acknowledgements either

  // Each answer on its own line, as `run` computes it from the whole conversation.
  Json messages = Json::array({{{"role", "user"}, {"content", "hello there"}}});
  const std::string first = run_answer(messages, dir + "/turn1.json", 6);
  messages.push_back({{"role", "assistant"}, {"content", first}});
  messages.push_back({{"role", "user"},
                      {"content", Json::array({{{"type", "image"}, {"image", kImage}},
                                               {{"type", "text"}, {"text", "what is this?"}}})}});
  const std::string second = run_answer(messages, dir + "/turn2.json", 6);
  const std::string answers = first + "\n" + second + "\n";
  ASSERT_EQ(r.out.substr(0, answers.size()), answers) << r.out;

  // /stats: the second turn reused at least the first turn's prompt.
  const std::string stats = r.out.substr(answers.size());
  EXPECT_EQ(stats.rfind("context: ", 0), 0u) << stats;
  const size_t at = stats.find("last turn: prompt ");
  ASSERT_NE(at, std::string::npos) << stats;
  long long prompt = 0, reused = 0, prefilled = 0;
  ASSERT_EQ(std::sscanf(stats.c_str() + at, "last turn: prompt %lld tokens: %lld reused from the cache (%*d%%), %lld prefilled",
                        &prompt, &reused, &prefilled),
            3)
      << stats;
  EXPECT_GT(reused, 10);
  EXPECT_EQ(reused + prefilled, prompt);

  // /save wrote exactly the conversation, which `run --messages` accepts.
  messages.push_back({{"role", "assistant"}, {"content", second}});
  EXPECT_EQ(load_json_file(saved), messages);
  const CliResult again = run_cli("run -m " + kFixture + " --messages " + saved + " -n 2 --temp 0 --json");
  EXPECT_EQ(again.exit_code, 0) << again.err;
  fs::remove_all(dir);
}

TEST(Chat, JsonPrintsOneObjectPerAnswer) {
  const std::string dir = scratch_dir("json");
  // An answer with line breaks stays on one line of output.
  const CliResult r = run_cli("chat -m " + kFixture + " -n 40 --temp 0 -q --json", "hello there\nmore\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<Json> answers;
  std::stringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) answers.push_back(parse_json(line, "chat --json line"));
  ASSERT_EQ(answers.size(), 2u) << r.out;
  Json messages = Json::array({{{"role", "user"}, {"content", "hello there"}}});
  EXPECT_EQ(answers[0]["text"], run_answer(messages, dir + "/t1.json", 40));
  EXPECT_NE(answers[0]["text"].get<std::string>().find('\n'), std::string::npos);  // this one has line breaks
  EXPECT_EQ(answers[0]["reused_tokens"], 0);
  EXPECT_EQ(answers[0]["prefilled_tokens"], answers[0]["prompt_tokens"]);
  messages.push_back({{"role", "assistant"}, {"content", answers[0]["text"]}});
  messages.push_back({{"role", "user"}, {"content", "more"}});
  EXPECT_EQ(answers[1]["text"], run_answer(messages, dir + "/t2.json", 40));
  EXPECT_GE(answers[1]["reused_tokens"].get<int64_t>(), answers[0]["prompt_tokens"].get<int64_t>());
  EXPECT_EQ(answers[1]["reused_tokens"].get<int64_t>() + answers[1]["prefilled_tokens"].get<int64_t>(),
            answers[1]["prompt_tokens"].get<int64_t>());
  EXPECT_EQ(answers[1]["answer_tokens"], 40);
  EXPECT_EQ(answers[1]["finish_reason"], "length");
  fs::remove_all(dir);
}

TEST(Chat, ScriptedAcknowledgementsGoToStderrAndALoadedConversationContinues) {
  const std::string dir = scratch_dir("load");
  const std::string conv = dir + "/conv.json";
  std::ofstream(conv) << Json::array({{{"role", "user"}, {"content", "hi"}}, {{"role", "assistant"}, {"content", "hey"}}})
                             .dump();
  const CliResult r = run_cli("chat -m " + kFixture + " -n 4 --temp 0 --system 'be brief'",
                              "/load " + conv + "\n" + kImage + "\nand?\n/reset\n/exit\nnever read\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("(loaded 2 messages from " + conv + ")"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(attached " + kImage + ")"), std::string::npos) << r.err;  // a pasted path
  EXPECT_NE(r.err.find("(new conversation)"), std::string::npos) << r.err;
  // The loaded conversation replaced the system message; the answer is the one
  // `run` gives it plus the new turn.
  const Json messages = Json::array(
      {{{"role", "user"}, {"content", "hi"}},
       {{"role", "assistant"}, {"content", "hey"}},
       {{"role", "user"},
        {"content", Json::array({{{"type", "image"}, {"image", kImage}}, {{"type", "text"}, {"text", "and?"}}})}}});
  EXPECT_EQ(r.out, run_answer(messages, dir + "/expected.json", 4) + "\n");
  fs::remove_all(dir);
}

TEST(Chat, DrawRendersTheLastAnswersBoxesOnTheLastImage) {
  const std::string dir = scratch_dir("draw");
  const std::string conv = dir + "/conv.json", png = dir + "/boxes.png";
  std::ofstream(conv) << Json::array({{{"role", "user"},
                                       {"content", Json::array({{{"type", "image"}, {"image", kImage}},
                                                                {{"type", "text"}, {"text", "where?"}}})}},
                                      {{"role", "assistant"},
                                       {"content", R"([{"bbox_2d": [100, 100, 500, 600], "label": "thing"}])"}}})
                             .dump();
  const CliResult r = run_cli("chat -m " + kFixture + " -n 2 --temp 0", "/load " + conv + "\n/draw " + png + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("drew 1 box and 0 points on the 400x300 image: " + png), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_regular_file(png));
  fs::remove_all(dir);
}

TEST(Chat, ScriptedErrorsNameTheProblemAndEndTheScript) {
  const std::string dir = scratch_dir("errors");
  const std::string bad = dir + "/bad.json";
  std::ofstream(bad) << R"([{"role":"robot","content":"x"}])";
  struct Case {
    std::string input, error;
  } cases[] = {
      {"/image /no/such/file.png\nhello\n", "qwen3vl: error: no image file at /no/such/file.png\n"},
      {"/frobnicate\nhello\n", "qwen3vl: error: unknown command /frobnicate (/help lists them)\n"},
      {"/load " + bad + "\nhello\n", "qwen3vl: error: " + bad + ": message 0 has unknown role \"robot\""},
      {"/save\n", "qwen3vl: error: /save needs a file name\n"},
      {"/draw out.png\n", "qwen3vl: error: /draw: no image in the conversation to draw on\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    const CliResult r = run_cli("chat -m " + kFixture + " -n 2 --temp 0 -q", c.input);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find(c.error), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");  // the script stopped at the error: "hello" was never answered
  }
  const CliResult help = run_cli("chat --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("/image PATH"), std::string::npos) << help.out;
  fs::remove_all(dir);
}

TEST(Chat, AFullContextIsSaidAndTheNextMessageRefusedClearly) {
  const CliResult r = run_cli("chat -m " + kFixture + " --ctx 48 -n 1000 --temp 0", "hello there\nand again\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("(the context of 48 tokens is full: /reset starts a new conversation"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("error: the prompt is "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" tokens but the context holds 48"), std::string::npos) << r.err;
  // The first answer filled the context: prompt and answer make 48 tokens
  // (the last sampled one is never written to the cache).
  Json messages = Json::array({{{"role", "user"}, {"content", "hello there"}}});
  const std::string dir = scratch_dir("full");
  std::ofstream(dir + "/m.json") << messages.dump();
  const CliResult run = run_cli("run -m " + kFixture + " --messages " + dir + "/m.json --ctx 48 -n 1000 --temp 0 --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const Json j = parse_json(run.out, "run --json");
  EXPECT_EQ(j["output_ids"].size() + j["prompt_ids"].size(), 48u);
  EXPECT_EQ(r.out, j["text"].get<std::string>() + "\n");
  fs::remove_all(dir);
}

TEST(Chat, InteractiveInAPseudoTerminal) {
  if (std::system("command -v tmux >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "tmux is not installed (scripts/setup installs it)";
  const std::string dir = scratch_dir("pty");
  const std::string saved = dir + "/conversation.json";
  // A large answer budget so that Ctrl-C lands mid-answer; history goes to
  // the scratch cache directory.
  Tmux t("QWEN3VL_CACHE=" + dir + "/cache " + QWEN3VL_CLI_PATH + " chat -m " + kFixture +
         " -n 100000 --ctx 8192 --temp 0; echo \"exit $?\" > " + dir + "/exit_code");
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(t.wait_for("Ctrl-D leaves.")) << t.screen();

  // An image by file:// URL, then a message typed with a correction.
  t.line("/image file://" + kImage);
  ASSERT_TRUE(t.wait_for("[1 image] > ")) << t.screen();
  t.text("describe the picturx");
  t.keys("BSpace");
  t.line("e");
  ASSERT_TRUE(t.wait_for_answer_to("> describe the picture")) << t.screen();
  t.keys("C-c");  // stops the answer, not the program
  ASSERT_TRUE(t.wait_for("[stopped]", 1, 30)) << t.screen();
  t.text("/sta");  // Tab completes commands
  t.keys("Tab Enter");
  ASSERT_TRUE(t.wait_for("reused from the cache")) << t.screen();

  // A pasted path attaches too; the next answer continues the conversation.
  t.line(kImage);
  ASSERT_TRUE(t.wait_for("[1 image] > ", 2)) << t.screen();
  t.line("and this one?");
  ASSERT_TRUE(t.wait_for_answer_to("> and this one?")) << t.screen();
  t.keys("C-c");
  ASSERT_TRUE(t.wait_for("[stopped]", 2, 30)) << t.screen();
  // History: three lines back is /stats (then the pasted path, then the message).
  t.keys("Up Up Up Enter");
  ASSERT_TRUE(t.wait_for("reused from the cache", 2)) << t.screen();
  {  // the turn after an interrupted answer reused the conversation's cache
    const std::string screen = t.screen();
    long long prompt = 0, reused = 0;
    ASSERT_EQ(std::sscanf(screen.c_str() + screen.rfind("last turn: prompt "),
                          "last turn: prompt %lld tokens: %lld reused", &prompt, &reused),
              2)
        << screen;
    EXPECT_GT(reused, 100) << screen;  // at least the first turn's prompt with its image
    EXPECT_LT(reused, prompt);
  }
  // Ctrl-C at the prompt drops the half-typed line and keeps the program.
  t.text("never sent");
  ASSERT_TRUE(t.wait_for("> never sent")) << t.screen();
  t.keys("C-c");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  // Tab completes file names.
  t.text("/image " + kFixture + "/golden/img_4");
  t.keys("Tab Enter");
  ASSERT_TRUE(t.wait_for("[1 image] > ", 3)) << t.screen();

  t.line("/save " + saved);
  ASSERT_TRUE(t.wait_for("(saved 4 messages to " + saved + ")")) << t.screen();
  t.line("/reset");
  ASSERT_TRUE(t.wait_for("(new conversation)")) << t.screen();
  t.line("/load " + saved);
  ASSERT_TRUE(t.wait_for("(loaded 4 messages from " + saved + ")")) << t.screen();
  t.keys("C-d");
  for (int i = 0; i < 100 && t.alive(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(t.alive()) << t.screen();
  EXPECT_EQ(slurp(dir + "/exit_code"), "exit 0\n");

  const Json s = load_json_file(saved);
  ASSERT_EQ(s.size(), 4u) << s.dump(2);
  EXPECT_EQ(s[0]["content"][0]["image"], kImage);
  EXPECT_EQ(s[0]["content"][1]["text"], "describe the picture");
  EXPECT_EQ(s[1]["role"], "assistant");
  EXPECT_FALSE(s[1]["content"].get<std::string>().empty());
  EXPECT_EQ(s[2]["content"][0]["image"], kImage);
  EXPECT_EQ(s[2]["content"][1]["text"], "and this one?");
  EXPECT_EQ(s[3]["role"], "assistant");
  EXPECT_EQ(s.dump().find("never sent"), std::string::npos);
  // The history was kept for the next run.
  const std::string history = slurp(dir + "/cache/chat_history");
  EXPECT_NE(history.find("/stats"), std::string::npos) << history;
  fs::remove_all(dir);
}

// qwen3vl chat: an interactive conversation over one Session, so each turn
// only prefills what is new (the session keeps its KV cache), with answers
// streamed as they are generated. Without a terminal it reads one message
// (or command) per line and prints each answer on its own line.
#include <unistd.h>

#include <iostream>
#include <optional>

#include "args.h"
#include "chat_conversation.h"
#include "chat_interrupt.h"
#include "chat_line_reader.h"
#include "chat_stats.h"
#include "commands.h"
#include "model_args.h"
#include "qwen3vl/base/cache_dir.h"
#include "qwen3vl/grounding.h"

namespace qwen3vl::cli {

namespace {

const char* kChatCommands =
    "  /image PATH    attach an image to your next message (or paste a path or file:// URL alone on a line)\n"
    "  /video PATH    attach a video to your next message (frames sampled as by run --video)\n"
    "  /reset         start a new conversation\n"
    "  /save FILE     write the conversation as a messages JSON (qwen3vl run --messages FILE reads it)\n"
    "  /load FILE     continue a saved conversation\n"
    "  /stats         tokens in context, the last turn's cache reuse and speeds\n"
    "  /draw OUT.png  draw the boxes and points of the last answer on the last image\n"
    "  /help          this list\n"
    "  /exit          leave (or Ctrl-D); Ctrl-C stops an answer and keeps the conversation\n";

// "/save  a b.json" -> "a b.json".
std::string argument_after(const std::string& line, const std::string& command) {
  const size_t b = line.find_first_not_of(" \t", command.size());
  if (b == std::string::npos) return "";
  return line.substr(b, line.find_last_not_of(" \t\r") - b + 1);
}

std::string input_prompt(const ChatConversation& chat) {
  const size_t n = chat.pending_images().size(), v = chat.pending_videos().size();
  if (n == 0 && v == 0) return "> ";
  std::string prompt(1, '[');
  if (n > 0) prompt += std::to_string(n) + (n == 1 ? " image" : " images");
  if (n > 0 && v > 0) prompt += ", ";
  if (v > 0) prompt += std::to_string(v) + (v == 1 ? " video" : " videos");
  return prompt + "] > ";
}

class Chat {
 public:
  struct Mode {
    bool terminal = false;  // stdin is a terminal
    bool quiet = false;     // no acknowledgements on stderr (scripts)
    bool json = false;      // each answer as one JSON line, not streamed
  };

  Chat(std::shared_ptr<Model> model, GenerateOptions options, std::string system, Mode mode)
      : model_(model), session_(model), options_(std::move(options)), chat_(std::move(system)), mode_(mode) {}

  // Runs one input line: a command, a pasted image path or a message.
  // False when the user asked to leave.
  bool handle(const std::string& line) {
    if (const std::string pasted = pasted_image_path(line); !pasted.empty()) {
      chat_.attach_image(pasted);
      notice("(attached " + chat_.pending_images().back() + ")");
      return true;
    }
    if (line[0] == '/') return command(line);
    answer(line);
    return true;
  }

  // "> ", or "[1 image] > " while images wait for the next message.
  std::string prompt() const { return input_prompt(chat_); }

 private:
  bool command(const std::string& line) {
    const std::string name = line.substr(0, line.find_first_of(" \t"));
    const std::string arg = argument_after(line, name);
    if (name == "/exit" || name == "/quit") return false;
    if (name == "/help") {
      std::cout << kChatCommands << std::flush;
    } else if (name == "/image") {
      chat_.attach_image(arg);
      notice("(attached " + chat_.pending_images().back() + ")");
    } else if (name == "/video") {
      chat_.attach_video(arg);
      notice("(attached " + chat_.pending_videos().back() + ")");
    } else if (name == "/reset") {
      chat_.reset();
      session_.reset();
      last_turn_.reset();
      notice("(new conversation)");
    } else if (name == "/save") {
      if (arg.empty()) throw Error("/save needs a file name");
      chat_.save(arg);
      notice("(saved " + std::to_string(chat_.messages().size()) + " messages to " + arg + ")");
    } else if (name == "/load") {
      if (arg.empty()) throw Error("/load needs a file name");
      chat_.load(arg);
      session_.set_base_dir(chat_.base_dir());
      notice("(loaded " + std::to_string(chat_.messages().size()) + " messages from " + arg + ")");
    } else if (name == "/stats") {
      std::cout << format_chat_stats(session_.cached_tokens(), model_->load_options().context_length,
                                     last_turn_ ? &*last_turn_ : nullptr)
                << std::flush;
    } else if (name == "/draw") {
      if (arg.empty()) throw Error("/draw needs an output file name (OUT.png)");
      const std::string image = chat_.last_image();
      if (image.empty()) throw Error("/draw: no image in the conversation to draw on");
      if (chat_.last_answer().empty()) throw Error("/draw: no answer yet");
      report_drawing(draw_grounding_answer(image, chat_.last_answer(), arg), arg);
    } else {
      throw Error("unknown command " + name + " (/help lists them)");
    }
    return true;
  }

  void answer(const std::string& text) {
    chat_.add_user(text);
    clear_interrupt();
    bool stopped = false;
    GenerationResult r;
    try {
      r = session_.generate(chat_.messages(), options_, [&](std::string_view piece) {
        if (!mode_.json) std::cout << piece << std::flush;
        if (interrupt_requested()) stopped = true;
        return !stopped;
      });
    } catch (...) {
      // The turn never happened: the conversation stays as it was.
      chat_.drop_last_user();
      throw;
    }
    chat_.add_assistant(r.text);
    last_turn_ = turn_stats(r);
    if (mode_.json)
      std::cout << chat_answer_json(r, stopped).dump(-1, ' ', false, Json::error_handler_t::replace) << "\n" << std::flush;
    else
      std::cout << (stopped ? " [stopped]\n" : "\n") << std::flush;
    // The answer ran into the end of the KV cache: the next message cannot fit.
    if ((r.finish_reason == "context_full" || r.finish_reason == "length") &&
        session_.cached_tokens() + 1 >= model_->load_options().context_length)
      notice("(the context of " + std::to_string(model_->load_options().context_length) +
             " tokens is full: /reset starts a new conversation; a larger --ctx gives more room)");
  }

  // Acknowledgements go to stderr, so a script's stdout holds only answers.
  void notice(const std::string& text) const {
    if (mode_.terminal || !mode_.quiet) std::cerr << text << "\n";
  }

  std::shared_ptr<Model> model_;
  Session session_;
  GenerateOptions options_;
  ChatConversation chat_;
  Mode mode_;
  std::optional<ChatTurnStats> last_turn_;
};

}  // namespace

int chat_command(int argc, char** argv) {
  Args args("chat",
            "An interactive conversation with the model: type a message and Enter. Answers stream as they are\n"
            "generated and each turn only computes what is new. Commands:\n" +
                std::string(kChatCommands) +
                "Without a terminal on stdin it reads one message (or command) per line and prints each answer on\n"
                "its own line (acknowledgements on stderr), so it scripts cleanly; the first error ends it (exit 1).");
  add_model_options(args);
  args.value("--system", "TEXT", "a system message");
  add_generation_options(args);
  args.flag("--json", "print each answer as one JSON line (text, finish_reason, token counts, speeds) instead of streaming it")
      .flag("-q,--quiet", "no notices or progress on stderr");
  if (!args.parse(argc, argv, 2)) return 0;
  const bool terminal = ::isatty(STDIN_FILENO);
  const bool quiet = args.has("quiet");
  const GenerateOptions options = generation_options_from_args(args);
  auto model = load_model_from_args(args, quiet);
  Chat chat(model, options, args.get("system"), {terminal, quiet, args.has("json")});
  ChatLineReader reader(terminal, terminal ? qwen3vl_cache_dir() + "/chat_history" : "",
                        {"/image", "/reset", "/save", "/load", "/stats", "/draw", "/help", "/exit"});
  if (terminal) {
    catch_interrupts();
    std::cout << "qwen3vl chat with " << (model->is_default_model() ? "the embedded tiny model (random weights)" : model->path())
              << ". /help lists the commands; Ctrl-C stops an answer, Ctrl-D leaves.\n";
  }
  std::string prompt = "> ";
  while (const std::optional<std::string> line = reader.read(prompt)) {
    if (line->find_first_not_of(" \t") != std::string::npos) {
      try {
        if (!chat.handle(*line)) break;
      } catch (const std::exception& e) {
        std::cout << std::flush;
        std::cerr << "qwen3vl: error: " << e.what() << "\n";
        if (!terminal) return 1;  // a script learns that its input failed
      }
    }
    prompt = chat.prompt();
  }
  if (terminal) std::cout << "\n";
  return 0;
}

}  // namespace qwen3vl::cli

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/json.h"
#include "qwen3vl/tokenizer/byte_level.h"
#include "qwen3vl/tokenizer/tokenizer.h"
#include "qwen3vl/tokenizer/utf8.h"

using namespace qwen3vl;

namespace {

const std::string kFixture = QWEN3VL_FIXTURE_DIR;

// Loading takes ~0.1 s; share one instance across the suite.
const Tokenizer& qwen() {
  static const Tokenizer tokenizer = Tokenizer::load(kFixture + "/tokenizer.json");
  return tokenizer;
}

std::string write_temp(const std::string& name, const std::string& content) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

// Message of the Error thrown by loading `path` ("" if none).
std::string load_error(const std::string& path) {
  try {
    Tokenizer::load(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A minimal byte-level BPE tokenizer.json: all 256 bytes plus the given merges.
Json tiny_tokenizer_json() {
  Json vocab = Json::object();
  for (int b = 0; b < 256; ++b) {
    std::string text;
    utf8_append(text, byte_to_alphabet_char(static_cast<uint8_t>(b)));
    vocab[text] = b;
  }
  vocab["ab"] = 256;
  vocab["abc"] = 257;
  Json config = {
      {"version", "1.0"},
      {"added_tokens", Json::array()},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         Json::array({{{"type", "Split"}, {"pattern", {{"Regex", "\\s+|\\S+"}}}, {"behavior", "Isolated"},
                       {"invert", false}},
                      {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}})}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", Json::array({"a b", "ab c"})}}}};
  return config;
}

}  // namespace

TEST(Tokenizer, GoldenCasesMatchReference) {
  const Json golden = load_json_file(kFixture + "/golden/tokenizer_cases.json");
  const Tokenizer& tok = qwen();
  ASSERT_EQ(golden["cases"].size(), 33u);
  for (const Json& c : golden["cases"]) {
    const std::string text = c["text"].get<std::string>();
    SCOPED_TRACE("text: " + text);
    const auto expected_ids = c["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(tok.encode(text), expected_ids);
    const auto expected_tokens = c["tokens"].get<std::vector<std::string>>();
    ASSERT_EQ(expected_tokens.size(), expected_ids.size());
    for (size_t i = 0; i < expected_ids.size(); ++i) {
      EXPECT_EQ(tok.id_to_token(expected_ids[i]), expected_tokens[i]);
      EXPECT_EQ(tok.token_to_id(expected_tokens[i]), expected_ids[i]);
    }
    EXPECT_EQ(tok.decode(expected_ids), c["decoded"].get<std::string>());
    EXPECT_EQ(tok.decode(expected_ids, /*skip_special=*/true), c["decoded_skip_special"].get<std::string>());
  }
}

TEST(Tokenizer, ChatPromptsOfGoldenCases) {
  const Tokenizer& tok = qwen();
  for (const char* name : {"case1_text", "case2_one_image", "case3_two_images"}) {
    SCOPED_TRACE(name);
    const Json c = load_json_file(kFixture + "/golden/" + name + ".json");
    const auto expected = c["input_ids_before_image_pad_expansion"].get<std::vector<int32_t>>();
    EXPECT_EQ(tok.encode(c["rendered_prompt"].get<std::string>()), expected);
    // The generated ids decode like the reference, including U+FFFD for byte
    // sequences the (random) model left unfinished.
    const auto generated = c["generated_ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(tok.decode(generated), c["generated_text"].get<std::string>());
    EXPECT_EQ(tok.decode(generated, true), c["generated_text_skip_special"].get<std::string>());
  }
}

TEST(Tokenizer, SpecialTokenQueries) {
  const Tokenizer& tok = qwen();
  EXPECT_EQ(tok.vocab_size(), 151669);
  EXPECT_EQ(tok.token_to_id("<|im_start|>"), 151644);
  EXPECT_EQ(tok.token_to_id("<|image_pad|>"), 151655);
  EXPECT_EQ(tok.token_to_id("<think>"), 151667);
  EXPECT_EQ(tok.token_to_id("no such token at all"), -1);
  EXPECT_TRUE(tok.is_special(151655));
  EXPECT_FALSE(tok.is_special(151667));  // <think> is added but not special
  EXPECT_FALSE(tok.is_special(9707));
  EXPECT_EQ(tok.id_to_token(151645), "<|im_end|>");
  EXPECT_THROW(tok.id_to_token(-1), Error);
  EXPECT_THROW(tok.id_to_token(151669), Error);
}

TEST(Tokenizer, SpecialTokensAsPlainText) {
  const Tokenizer& tok = qwen();
  const std::string text = "<|im_start|>user<think>";
  const auto ids = tok.encode(text, /*parse_special=*/false);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 151644), 0);
  // Like the reference's split_special_tokens, non-special added tokens still match.
  EXPECT_EQ(ids.back(), 151667);
  EXPECT_EQ(tok.decode(ids), text);
  // The plain-text part is what the same characters give without any added token.
  std::vector<int32_t> plain = tok.encode("<|im_start|>user", false);
  plain.push_back(151667);
  EXPECT_EQ(ids, plain);
  EXPECT_EQ(tok.encode(text, true), (std::vector<int32_t>{151644, 872, 151667}));
}

TEST(Tokenizer, UnknownIdsAreSkippedWhenDecoding) {
  EXPECT_EQ(qwen().decode({9707, -5, 151900, 1879}), "Hello world");
}

TEST(Tokenizer, NormalizesToNfcBeforeSplitting) {
  const Tokenizer& tok = qwen();
  EXPECT_EQ(tok.encode("cafe\xCC\x81"), tok.encode("caf\xC3\xA9"));  // e + U+0301 == é
}

TEST(Tokenizer, InvalidUtf8InputIsRepairedNotFatal) {
  const Tokenizer& tok = qwen();
  std::vector<int32_t> ids;
  ASSERT_NO_THROW(ids = tok.encode(std::string("ab\xFF" "cd\xE2\x82", 7)));
  EXPECT_EQ(tok.decode(ids), "ab\xEF\xBF\xBD" "cd\xEF\xBF\xBD");
  EXPECT_EQ(ids, tok.encode("ab\xEF\xBF\xBD" "cd\xEF\xBF\xBD"));
}

TEST(Tokenizer, LongInputsRoundTrip) {
  const Tokenizer& tok = qwen();
  std::string text;
  for (int i = 0; i < 200; ++i) text += "The quick brown fox, 第" + std::to_string(i) + "号, jumps!\n";
  text += std::string(5000, ' ') + std::string(3000, 'x') + "测试中文分词没有空格的长句子" + std::string(100, '\n');
  EXPECT_EQ(tok.decode(tok.encode(text)), text);
}

TEST(Tokenizer, ConcurrentEncodeMatchesSerial) {
  const Tokenizer& tok = qwen();
  const Json golden = load_json_file(kFixture + "/golden/tokenizer_cases.json");
  std::vector<std::string> texts;
  for (const Json& c : golden["cases"]) texts.push_back(c["text"].get<std::string>());
  std::vector<std::vector<int32_t>> serial;
  for (const auto& t : texts) serial.push_back(tok.encode(t));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 50; ++round)
        for (size_t i = 0; i < texts.size(); ++i)
          if (tok.encode(texts[(i + t) % texts.size()]) != serial[(i + t) % texts.size()]) ++mismatches[t];
    });
  }
  for (auto& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

TEST(StreamDecoder, HoldsBackSplitCharacters) {
  const Tokenizer& tok = qwen();
  // From the golden cases: " 👨" is split into " \xF0\x9F\x91" + "\xA8", and the ZWJ into two tokens.
  const std::string text = "emoji 😀🎉👍🏽 family 👨‍👩‍👧 你好，世界！";
  const auto ids = tok.encode(text);
  StreamDecoder stream(tok);
  std::string streamed;
  int held_back = 0;
  for (const int32_t id : ids) {
    const std::string piece = stream.put(id);
    EXPECT_TRUE(is_valid_utf8(piece));
    if (piece.size() < tok.token_bytes(id).size()) ++held_back;
    streamed += piece;
  }
  streamed += stream.flush();
  EXPECT_EQ(streamed, text);
  EXPECT_GT(held_back, 0);

  // The first token of " 👨" alone gives just the space.
  StreamDecoder partial(tok);
  EXPECT_EQ(partial.put(61804), " ");
  EXPECT_EQ(partial.put(101), "👨");
  // An unfinished character at the end comes out as U+FFFD on flush.
  EXPECT_EQ(partial.put(61804), " ");
  EXPECT_EQ(partial.flush(), "\xEF\xBF\xBD");
}

TEST(StreamDecoder, SkipsSpecialTokensOnRequest) {
  const Tokenizer& tok = qwen();
  StreamDecoder stream(tok, /*skip_special=*/true);
  std::string out;
  for (const int32_t id : tok.encode("<|im_start|>assistant\nhi<|im_end|>")) out += stream.put(id);
  out += stream.flush();
  EXPECT_EQ(out, "assistant\nhi");
}

TEST(Utf8, LossyReplacesMaximalSubparts) {
  // Same counts as Rust's from_utf8_lossy / the Unicode recommendation.
  EXPECT_EQ(utf8_lossy("a\xE2\x82" "b"), "a\xEF\xBF\xBD" "b");                       // truncated 3-byte
  EXPECT_EQ(utf8_lossy("\xF0\x80\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");     // overlong: 3 subparts
  EXPECT_EQ(utf8_lossy("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");     // surrogate
  EXPECT_EQ(utf8_lossy("\xC3\xA9"), "\xC3\xA9");
  EXPECT_EQ(utf8_complete_prefix_length("ab\xF0\x9F\x98"), 2u);
  EXPECT_EQ(utf8_complete_prefix_length("ab\xF0\x9F\x98\x80"), 6u);
  EXPECT_EQ(utf8_complete_prefix_length("ab\xFF"), 3u);  // invalid, not pending
}

TEST(ByteLevel, AlphabetRoundTrip) {
  EXPECT_EQ(bytes_to_alphabet(" world\n"), "Ġworld" "Ċ");
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  EXPECT_EQ(alphabet_to_bytes(bytes_to_alphabet(all)).value(), all);
  EXPECT_FALSE(alphabet_to_bytes("日").has_value());
}

TEST(Tokenizer, TinyHandMadeFileFollowsMergeRanks) {
  Json config = tiny_tokenizer_json();
  const auto tok = Tokenizer::load(write_temp("tiny_tok.json", config.dump()));
  EXPECT_EQ(tok.encode("abc abd"), (std::vector<int32_t>{257, ' ', 256, 'd'}));
  // Merges given as [left, right] pairs are equivalent.
  config["model"]["merges"] = Json::array({Json::array({"a", "b"}), Json::array({"ab", "c"})});
  const auto pairs = Tokenizer::load(write_temp("tiny_tok_pairs.json", config.dump()));
  EXPECT_EQ(pairs.encode("xabcab"), (std::vector<int32_t>{'x', 257, 256}));
}

TEST(Tokenizer, LoadErrorsNameTheFile) {
  const std::string missing = ::testing::TempDir() + "/does_not_exist/tokenizer.json";
  EXPECT_NE(load_error(missing).find(missing), std::string::npos);

  std::string text = tiny_tokenizer_json().dump();
  const std::string truncated = write_temp("truncated.json", text.substr(0, text.size() / 2));
  EXPECT_NE(load_error(truncated).find(truncated), std::string::npos);

  Json config = tiny_tokenizer_json();
  config["model"]["type"] = "WordPiece";
  const std::string wordpiece = write_temp("wordpiece.json", config.dump());
  const std::string message = load_error(wordpiece);
  EXPECT_NE(message.find(wordpiece), std::string::npos);
  EXPECT_NE(message.find("WordPiece"), std::string::npos);

  config = tiny_tokenizer_json();
  config["model"]["merges"].push_back("x yz");
  const std::string bad_merge = write_temp("bad_merge.json", config.dump());
  EXPECT_NE(load_error(bad_merge).find(bad_merge), std::string::npos);

  config = tiny_tokenizer_json();
  config["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(unclosed";
  const std::string bad_regex = write_temp("bad_regex.json", config.dump());
  EXPECT_NE(load_error(bad_regex).find(bad_regex), std::string::npos);

  const std::string empty = write_temp("empty.json", "");
  EXPECT_NE(load_error(empty).find(empty), std::string::npos);
}

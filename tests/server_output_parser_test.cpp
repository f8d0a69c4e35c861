#include <gtest/gtest.h>

#include "qwen3vl/base/json.h"
#include "server/assistant_output_parser.h"

using namespace qwen3vl;
using namespace qwen3vl::server;

namespace {

AssistantOutputParser::Options opts(bool reasoning, bool tools) {
  AssistantOutputParser::Options o;
  o.starts_in_reasoning = reasoning;
  o.parse_tool_calls = tools;
  int n = 0;
  o.new_call_id = [n]() mutable { return "call_" + std::to_string(n++); };
  return o;
}

// What a client reassembles from the deltas.
struct Reassembled {
  std::string reasoning, content;
  std::vector<ToolCall> calls;
  void add(const AssistantDelta& d) {
    reasoning += d.reasoning;
    content += d.content;
    for (const auto& t : d.tool_calls) {
      if (t.starts) {
        ASSERT_EQ(t.index, static_cast<int>(calls.size()));
        calls.push_back({t.id, t.name, ""});
      }
      ASSERT_LT(t.index, static_cast<int>(calls.size()));
      calls[t.index].arguments += t.arguments;
    }
  }
};

// Feeds `text` cut at the given positions and checks the deltas add up to
// the parser's own totals.
Reassembled feed(const std::string& text, const std::vector<size_t>& cuts, AssistantOutputParser::Options o,
                 AssistantOutputParser* out = nullptr) {
  AssistantOutputParser p(std::move(o));
  Reassembled r;
  size_t prev = 0;
  for (size_t c : cuts) {
    r.add(p.push(text.substr(prev, c - prev)));
    prev = c;
  }
  r.add(p.push(text.substr(prev)));
  r.add(p.finish());
  EXPECT_EQ(r.reasoning, p.reasoning());
  EXPECT_EQ(r.content, p.content());
  EXPECT_EQ(r.calls.size(), p.tool_calls().size());
  for (size_t i = 0; i < r.calls.size() && i < p.tool_calls().size(); ++i) {
    EXPECT_EQ(r.calls[i].name, p.tool_calls()[i].name);
    EXPECT_EQ(r.calls[i].arguments, p.tool_calls()[i].arguments);
  }
  if (out) *out = std::move(p);
  return r;
}

// Every way of cutting the text in two and in characters gives the same result.
void expect_split_invariant(const std::string& text, bool reasoning, bool tools, const Reassembled& want) {
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    const Reassembled r = feed(text, {cut}, opts(reasoning, tools));
    EXPECT_EQ(r.reasoning, want.reasoning) << "cut at " << cut;
    EXPECT_EQ(r.content, want.content) << "cut at " << cut;
    ASSERT_EQ(r.calls.size(), want.calls.size()) << "cut at " << cut;
    for (size_t i = 0; i < r.calls.size(); ++i) {
      EXPECT_EQ(r.calls[i].name, want.calls[i].name) << "cut at " << cut;
      EXPECT_EQ(r.calls[i].arguments, want.calls[i].arguments) << "cut at " << cut;
    }
  }
  std::vector<size_t> every;
  for (size_t i = 1; i < text.size(); ++i) every.push_back(i);
  const Reassembled r = feed(text, every, opts(reasoning, tools));
  EXPECT_EQ(r.reasoning, want.reasoning);
  EXPECT_EQ(r.content, want.content);
  ASSERT_EQ(r.calls.size(), want.calls.size());
}

}  // namespace

TEST(AssistantOutputParser, PlainTextPassesThroughUnchanged) {
  const std::string text = "Hello <b>world</b> <thin and < tool";
  const Reassembled r = feed(text, {3, 7, 20}, opts(false, true));
  EXPECT_EQ(r.content, text);
  EXPECT_TRUE(r.reasoning.empty());
  EXPECT_TRUE(r.calls.empty());
}

TEST(AssistantOutputParser, ThinkingOpenedByThePromptBecomesReasoning) {
  Reassembled want;
  want.reasoning = "The user greets me.\nI greet back.";
  want.content = "Hello!";
  expect_split_invariant("The user greets me.\nI greet back.\n</think>\n\nHello!", true, false, want);
}

TEST(AssistantOutputParser, ThinkingOpenedByTheModelBecomesReasoning) {
  Reassembled want;
  want.reasoning = "hmm";
  want.content = "Yes.";
  expect_split_invariant("<think>\nhmm\n</think>\n\nYes.", false, false, want);
}

TEST(AssistantOutputParser, ThinkingThatNeverEndsIsAllReasoning) {
  const Reassembled r = feed("still thinking about </thi", {5}, opts(true, false));
  EXPECT_EQ(r.reasoning, "still thinking about </thi");
  EXPECT_EQ(r.content, "");
}

TEST(AssistantOutputParser, ToolCallBecomesAStructuredCall) {
  Reassembled want;
  want.content = "Let me check.";
  want.calls.push_back({"", "get_weather", R"({"city": "Paris", "unit": {"c": true}})"});
  expect_split_invariant(
      "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": "
      "{\"c\": true}}}\n</tool_call>",
      false, true, want);
}

TEST(AssistantOutputParser, ReasoningThenTwoToolCalls) {
  Reassembled want;
  want.reasoning = "Need two lookups.";
  want.calls.push_back({"", "a", "{\"x\": 1}"});
  want.calls.push_back({"", "b", "{}"});
  expect_split_invariant(
      "Need two lookups.</think>\n\n<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": 1}}\n</tool_call>\n"
      "<tool_call>\n{\"name\": \"b\", \"arguments\": {}}\n</tool_call>",
      true, true, want);
}

TEST(AssistantOutputParser, NameIsStreamedBeforeTheArgumentsEnd) {
  AssistantOutputParser p(opts(false, true));
  AssistantDelta d = p.push("<tool_call>\n{\"name\": \"search\", \"arguments\": {\"q\": \"ca");
  ASSERT_EQ(d.tool_calls.size(), 1u);
  EXPECT_TRUE(d.tool_calls[0].starts);
  EXPECT_EQ(d.tool_calls[0].id, "call_0");
  EXPECT_EQ(d.tool_calls[0].name, "search");
  EXPECT_EQ(d.tool_calls[0].arguments, "{\"q\": \"ca");
  d = p.push("ts\"}}\n</tool_");
  ASSERT_EQ(d.tool_calls.size(), 1u);
  EXPECT_FALSE(d.tool_calls[0].starts);
  EXPECT_EQ(d.tool_calls[0].arguments, "ts\"}");  // the wrapper's '}' is held back
  d = p.push("call>");
  EXPECT_TRUE(d.empty());
  ASSERT_EQ(p.tool_calls().size(), 1u);
  EXPECT_EQ(p.tool_calls()[0].arguments, "{\"q\": \"cats\"}");
  EXPECT_EQ(Json::parse(p.tool_calls()[0].arguments)["q"], "cats");
}

TEST(AssistantOutputParser, ArgumentsBeforeNameAreParsedAtTheEnd) {
  Reassembled want;
  want.calls.push_back({"", "f", "{\"k\":[1,2]}"});
  expect_split_invariant("<tool_call>{\"arguments\": {\"k\": [1, 2]}, \"name\": \"f\"}</tool_call>", false, true, want);
}

TEST(AssistantOutputParser, InvalidToolCallStaysContent) {
  Reassembled want;
  want.content = "<tool_call>not json</tool_call>after";
  expect_split_invariant("<tool_call>not json</tool_call>after", false, true, want);
}

TEST(AssistantOutputParser, WithoutToolsTagsAreJustText) {
  Reassembled want;
  want.content = "<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>";
  expect_split_invariant(want.content, false, false, want);
}

TEST(AssistantOutputParser, UnclosedValidCallAtTheEndIsStillACall) {
  const Reassembled r = feed("<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1}}", {20}, opts(false, true));
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].name, "f");
  EXPECT_EQ(r.calls[0].arguments, "{\"a\": 1}");
}

TEST(AssistantOutputParser, DetectsPromptsThatOpenThinking) {
  EXPECT_TRUE(prompt_opens_reasoning("<|im_start|>assistant\n<think>\n"));
  EXPECT_FALSE(prompt_opens_reasoning("<|im_start|>assistant\n<think>\n\n</think>\n\n"));
  EXPECT_FALSE(prompt_opens_reasoning("<|im_start|>assistant\n"));
}

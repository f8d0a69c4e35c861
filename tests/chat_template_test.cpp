// Chat template rendering: the fixture's own Qwen3-VL template against the
// goldens made by transformers, plus hand-derived expectations for the Jinja
// constructs that Qwen3 / Qwen3-VL Instruct and Thinking templates rely on.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/json.h"
#include "qwen3vl/base/mapped_file.h"
#include "qwen3vl/tokenizer/chat_template.h"

using namespace qwen3vl;
namespace fs = std::filesystem;

namespace {

const std::string kFixture = QWEN3VL_FIXTURE_DIR;

std::string render_text(const std::string& source, const OrderedJson& variables = OrderedJson::object(),
                        const OrderedJson& messages = OrderedJson::array(), bool add_generation_prompt = false) {
  return ChatTemplate(source, "test").render(messages, add_generation_prompt, variables);
}

// The error message a template produces, or "" if it renders.
std::string error_of(const std::string& source, const OrderedJson& variables = OrderedJson::object()) {
  try {
    render_text(source, variables);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

const ChatTemplate& fixture_template() {
  static const ChatTemplate chat_template = ChatTemplate::load_from_dir(kFixture);
  return chat_template;
}

std::string make_temp_dir(const std::string& name) {
  fs::path dir = fs::path(::testing::TempDir()) / ("chat_template_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

void write_file(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

TEST(ChatTemplateGolden, FixtureCasesRenderByteIdentical) {
  for (const char* name : {"case1_text", "case2_one_image", "case3_two_images"}) {
    OrderedJson golden = OrderedJson::parse(read_text_file(kFixture + "/golden/" + name + ".json"));
    std::string rendered = fixture_template().render(golden["messages"], /*add_generation_prompt=*/true);
    EXPECT_EQ(rendered, golden["rendered_prompt"].get<std::string>()) << name;
  }
}

TEST(ChatTemplateGolden, MultiTurnWithAssistantPartsToolCallsAndToolResponses) {
  OrderedJson messages = OrderedJson::parse(R"([
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": [{"type": "text", "text": "Let me check."}],
     "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}}]},
    {"role": "tool", "content": "18C"},
    {"role": "tool", "content": "sunny"},
    {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "And here?"}]}
  ])");
  const std::string expected =
      "<|im_start|>user\nHi<|im_end|>\n"
      "<|im_start|>assistant\nLet me check.\n<tool_call>\n"
      "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call><|im_end|>\n"
      "<|im_start|>user\n<tool_response>\n18C\n</tool_response>\n<tool_response>\nsunny\n</tool_response><|im_end|>\n"
      "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>And here?<|im_end|>\n"
      "<|im_start|>assistant\n";
  EXPECT_EQ(fixture_template().render(messages, true), expected);
  // Without the generation prompt the text simply stops after the last turn.
  EXPECT_EQ(fixture_template().render(messages, false), expected.substr(0, expected.size() - 22));
}

TEST(ChatTemplateGolden, SystemMessageAsPartsAndVisionIds) {
  OrderedJson messages = OrderedJson::parse(R"([
    {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
    {"role": "user", "content": [{"type": "image"}, {"type": "video"}, {"type": "image_url", "image_url": "x"},
                                 {"type": "text", "text": "What?"}]}
  ])");
  EXPECT_EQ(fixture_template().render(messages, true, OrderedJson{{"add_vision_id", true}}),
            "<|im_start|>system\nBe brief.<|im_end|>\n"
            "<|im_start|>user\nPicture 1: <|vision_start|><|image_pad|><|vision_end|>"
            "Video 1: <|vision_start|><|video_pad|><|vision_end|>"
            "Picture 2: <|vision_start|><|image_pad|><|vision_end|>What?<|im_end|>\n"
            "<|im_start|>assistant\n");
}

TEST(ChatTemplateGolden, ToolsAreListedWithTransformersTojson) {
  OrderedJson messages = OrderedJson::parse(R"([{"role": "system", "content": "S"}, {"role": "user", "content": "Weather?"}])");
  // Key order is the caller's (ordered_json), non-ASCII stays raw, quotes are escaped.
  OrderedJson tools = OrderedJson::parse(R"([{"type": "function", "function": {"name": "get_weather",
      "description": "Météo \"now\"", "parameters": {"type": "object", "required": ["city"],
      "properties": {"city": {"type": "string"}, "days": {"type": "integer", "default": 1.5e-07}}}}}])");
  const std::string expected =
      "<|im_start|>system\nS\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
      "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
      "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Météo \\\"now\\\"\", "
      "\"parameters\": {\"type\": \"object\", \"required\": [\"city\"], \"properties\": {\"city\": {\"type\": "
      "\"string\"}, \"days\": {\"type\": \"integer\", \"default\": 1.5e-07}}}}}\n</tools>\n\n"
      "For each function call, return a json object with function name and arguments within <tool_call></tool_call> "
      "XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n"
      "<|im_start|>user\nWeather?<|im_end|>\n<|im_start|>assistant\n";
  EXPECT_EQ(fixture_template().render(messages, true, OrderedJson{{"tools", tools}}), expected);
}

TEST(ChatTemplateGolden, JsonKeepsKeyOrderForTojson) {
  Json messages = Json::parse(R"([{"role": "assistant", "content": "",
      "tool_calls": [{"name": "f", "arguments": {"b": 1, "a": 2}}]}])");
  EXPECT_EQ(fixture_template().render(messages, false),
            "<|im_start|>assistant\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"b\": 1, \"a\": 2}}\n"
            "</tool_call><|im_end|>\n");
}

// A template with the constructs of the Qwen3-VL Thinking / Qwen3 templates:
// namespace with multi_step_tool, messages[::-1], loop.index0,
// reasoning_content, split('</think>'), rstrip/lstrip('\n'), enable_thinking.
const char* const kThinkingTemplate = R"TPL({%- if messages[0].role == 'system' %}
    {{- '<|im_start|>system\n' + messages[0].content + '<|im_end|>\n' }}
{%- endif %}
{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}
{%- for message in messages[::-1] %}
    {%- set index = (messages|length - 1) - loop.index0 %}
    {%- if ns.multi_step_tool and message.role == "user" and message.content is string and not(message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}
        {%- set ns.multi_step_tool = false %}
        {%- set ns.last_query_index = index %}
    {%- endif %}
{%- endfor %}
{%- for message in messages %}
    {%- if message.content is string %}
        {%- set content = message.content %}
    {%- else %}
        {%- set content = '' %}
    {%- endif %}
    {%- if message.role == "user" or (message.role == "system" and not loop.first) %}
        {{- '<|im_start|>' + message.role + '\n' + content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {%- set reasoning_content = '' %}
        {%- if message.reasoning_content is string %}
            {%- set reasoning_content = message.reasoning_content %}
        {%- else %}
            {%- if '</think>' in content %}
                {%- set reasoning_content = content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n') %}
                {%- set content = content.split('</think>')[-1].lstrip('\n') %}
            {%- endif %}
        {%- endif %}
        {%- if loop.index0 > ns.last_query_index %}
            {%- if loop.last or (not loop.last and reasoning_content) %}
                {{- '<|im_start|>' + message.role + '\n<think>\n' + reasoning_content.strip('\n') + '\n</think>\n\n' + content.lstrip('\n') }}
            {%- else %}
                {{- '<|im_start|>' + message.role + '\n' + content }}
            {%- endif %}
        {%- else %}
            {{- '<|im_start|>' + message.role + '\n' + content }}
        {%- endif %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {{- '<|im_start|>user\n<tool_response>\n' + content + '\n</tool_response><|im_end|>\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
    {%- if enable_thinking is defined and enable_thinking is false %}
        {{- '<think>\n\n</think>\n\n' }}
    {%- else %}
        {{- '<think>\n' }}
    {%- endif %}
{%- endif %}
)TPL";

TEST(ChatTemplateThinking, ReasoningIsKeptOnlyAfterTheLastRealQuery) {
  OrderedJson messages = OrderedJson::parse(R"([
    {"role": "system", "content": "S"},
    {"role": "user", "content": "Q1"},
    {"role": "assistant", "content": "<think>\nR1\n</think>\n\nA1"},
    {"role": "user", "content": "Q2"},
    {"role": "assistant", "content": "\nA2", "reasoning_content": "\nR2\n"},
    {"role": "tool", "content": "T"},
    {"role": "user", "content": "<tool_response>\nX\n</tool_response>"}
  ])");
  // Scanning backwards, index 6 is a tool response, so the last real query is
  // index 3: the assistant turn at 2 loses its thinking, the one at 4 keeps it.
  const std::string history =
      "<|im_start|>system\nS<|im_end|>\n"
      "<|im_start|>user\nQ1<|im_end|>\n"
      "<|im_start|>assistant\nA1<|im_end|>\n"
      "<|im_start|>user\nQ2<|im_end|>\n"
      "<|im_start|>assistant\n<think>\nR2\n</think>\n\nA2<|im_end|>\n"
      "<|im_start|>user\n<tool_response>\nT\n</tool_response><|im_end|>\n"
      "<|im_start|>user\n<tool_response>\nX\n</tool_response><|im_end|>\n";
  ChatTemplate thinking(kThinkingTemplate, "thinking");
  EXPECT_EQ(thinking.render(messages, true), history + "<|im_start|>assistant\n<think>\n");
  EXPECT_EQ(thinking.render(messages, true, OrderedJson{{"enable_thinking", false}}),
            history + "<|im_start|>assistant\n<think>\n\n</think>\n\n");
  EXPECT_EQ(thinking.render(messages, true, OrderedJson{{"enable_thinking", true}}),
            history + "<|im_start|>assistant\n<think>\n");
}

TEST(ChatTemplateThinking, LastAssistantTurnGetsAnEmptyThinkBlock) {
  OrderedJson messages = OrderedJson::parse(R"([{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}])");
  EXPECT_EQ(ChatTemplate(kThinkingTemplate).render(messages, false),
            "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nA<|im_end|>\n");
}

TEST(ChatTemplateWhitespace, TrimBlocksAndLstripBlocks) {
  // lstrip_blocks removes the indentation before {% and {#; trim_blocks the
  // newline after %} and #}; text lines keep their indentation.
  EXPECT_EQ(render_text("a\n  {% if true %}\n  x\n  {% endif %}\n  {# note #}\ny"), "a\n  x\ny");
  // {{ }} is not a block: neither option touches it.
  EXPECT_EQ(render_text("  {{ 'v' }}\n  {{ 'w' }}"), "  v\n  w");
  // `+` opts out of lstrip (before the tag) and trim (after it).
  EXPECT_EQ(render_text("  {%+ if true %}x{% endif +%}\n  {% if true %}y{% endif %}\nz"), "  x\nyz");
  // Lstrip only applies when the tag is first on its line.
  EXPECT_EQ(render_text("a  {% if true %}b{% endif %}"), "a  b");
}

TEST(ChatTemplateWhitespace, DashStripsAllWhitespaceOnItsSide) {
  EXPECT_EQ(render_text("  {{ 'v' }}  \n{%- if 1 %} a {%- endif %}\n b {{- 'c' -}} \n d"), "  v a bcd");
  EXPECT_EQ(render_text("x \n\t {#- comment -#} \n y"), "xy");
  // A single trailing newline of the template is dropped (keep_trailing_newline=False).
  EXPECT_EQ(render_text("line\n"), "line");
  EXPECT_EQ(render_text("line\n\n"), "line\n");
  // Windows newlines are normalised to \n.
  EXPECT_EQ(render_text("a\r\n{% if true %}\r\nb{% endif %}"), "a\nb");
}

TEST(ChatTemplateJinja, LoopsScopesAndNamespaces) {
  EXPECT_EQ(render_text("{% for x in ['a','b','c'] %}{{ loop.index }}{{ loop.index0 }}{{ x }}"
                        "{% if loop.first %}F{% endif %}{% if loop.last %}L{{ loop.length }}{% endif %}|{% endfor %}"),
            "10aF|21b|32cL3|");
  // Assignments inside a loop do not survive the iteration; namespaces carry state out.
  EXPECT_EQ(render_text("{% set x = 0 %}{% set ns = namespace(n=0) %}{% for i in range(3) %}{% set x = x + 1 %}"
                        "{% set ns.n = ns.n + i %}{% endfor %}{{ x }},{{ ns.n }}"),
            "0,3");
  EXPECT_EQ(render_text("{% for k, v in {'b': 1, 'a': 2}.items() %}{{ k }}={{ v }};{% endfor %}"), "b=1;a=2;");
  EXPECT_EQ(render_text("{% for k in {'b': 1, 'a': 2} %}{{ k }}{% endfor %}"), "ba");
  EXPECT_EQ(render_text("{% for x in [] %}x{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(render_text("{% for x in [1, 2, 3, 4] if x != 2 %}{{ x }}/{{ loop.length }} {% endfor %}"), "1/3 3/3 4/3 ");
  EXPECT_EQ(render_text("{% for x in range(10) %}{% if x == 1 %}{% continue %}{% endif %}"
                        "{% if x == 3 %}{% break %}{% endif %}{{ x }}{% endfor %}"),
            "02");
  EXPECT_EQ(render_text("{% macro tag(name, close=false) %}<{{ '/' if close }}{{ name }}>{% endmacro %}"
                        "{{ tag('a') }}{{ tag('a', close=true) }}"),
            "<a></a>");
  EXPECT_EQ(render_text("{% set block %}x{{ 1 + 1 }}{% endset %}[{{ block }}]"), "[x2]");
  EXPECT_EQ(render_text("{% if a %}1{% elif b %}2{% else %}3{% endif %}", OrderedJson{{"b", true}}), "2");
}

TEST(ChatTemplateJinja, ExpressionsFollowPython) {
  EXPECT_EQ(render_text("{{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 1 + 2.5 }} {{ 0.1 + 0.2 }}"),
            "3.5 3 -4 2 1024 3.5 0.30000000000000004");
  EXPECT_EQ(render_text("{{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 1.5e-05 }} {{ 2.0 }}"),
            "1e+16 1000000000000000.0 0.0001 1.5e-05 2.0");
  EXPECT_EQ(render_text("{{ 'a' ~ 1 ~ none ~ true }} {{ 'ab' * 2 }} {{ 'x' + 'y' }}"), "a1NoneTrue abab xy");
  EXPECT_EQ(render_text("{{ 'héllo'[1:] }} {{ 'héllo'|length }} {{ 'abc'[::-1] }} {{ [1, 2, 3, 4][1:3] }} {{ [1, 2, 3][-1] }}"),
            "éllo 5 cba [2, 3] 3");
  EXPECT_EQ(render_text("{{ 'a' in 'cat' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'x' not in 'abc' }} {{ 1 < 2 < 3 }}"),
            "True True True True True");
  EXPECT_EQ(render_text("{{ [1, 'a', none, true, {'k': (1, 2)}] }}"), "[1, 'a', None, True, {'k': (1, 2)}]");
  EXPECT_EQ(render_text("{{ 'y' if x else 'n' }}{{ 'never' if false }}|{{ x }}|{{ m.missing }}|{{ [1][5] }}",
                        OrderedJson{{"m", OrderedJson::object()}}),
            "n|||");
  EXPECT_EQ(render_text("{{ x is defined }} {{ x is undefined }} {{ none is none }} {{ 'a' is string }} {{ {} is mapping }} "
                        "{{ [] is iterable }} {{ 'a' is sequence }} {{ 1 is number }} {{ true is boolean }} {{ 1 is not string }}"),
            "False True True True True True True True True True");
}

TEST(ChatTemplateJinja, FiltersAndMethods) {
  EXPECT_EQ(render_text("{{ '  a b  '|trim }}|{{ 'xxaxx'|trim('x') }}|{{ 'Ab'|upper }}{{ 'Ab'|lower }}|{{ x|default('d') }}|"
                        "{{ ''|default('d', true) }}|{{ [3, 4]|first }}{{ [3, 4]|last }}|{{ [1, 2]|join(', ') }}|"
                        "{{ 'aaa'|replace('a', 'b', 2) }}|{{ 1|string }}|{{ '42'|int + 1 }}|{{ 'x'|int }}|"
                        "{{ {'a': 1}|items|list }}|{{ 'ab'|list }}|{{ [1, 2]|count }}|{{ 'x'|safe }}"),
            "a b|a|ABab|d|d|34|1, 2|bba|1|43|0|[('a', 1)]|['a', 'b']|2|x");
  EXPECT_EQ(render_text("{{ '\\n\\nabc\\n'.strip() }}|{{ 'xxabc'.lstrip('x') }}|{{ 'abc\\n\\n'.rstrip('\\n') }}|"
                        "{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a,b,c'.split(',', 1) }}|"
                        "{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith('bc') }}|{{ 'aXa'.replace('a', 'b') }}|"
                        "{{ 'Ab'.upper() }}{{ 'Ab'.lower() }}"),
            "abc|abc|abc|['a', 'b', '', 'c']|['a', 'b']|['a', 'b,c']|TrueTrue|bXb|ABab");
  EXPECT_EQ(render_text("{% set d = {'a': 1} %}{{ d.get('a') }}{{ d.get('b') }}{{ d.get('b', 5) }}"
                        "{{ d.keys()|list }}{{ d.values()|list }}{{ d.items()|list }}"),
            "1None5['a'][1][('a', 1)]");
  EXPECT_EQ(render_text("{{ {'b': 1, 'a': [1, {}]}|tojson }}|{{ {'b': 1, 'a': [1, {}]}|tojson(indent=2) }}|"
                        "{{ 'é\\n\"'|tojson }}|{{ 'é'|tojson(ensure_ascii=true) }}|{{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }}"),
            "{\"b\": 1, \"a\": [1, {}]}|{\n  \"b\": 1,\n  \"a\": [\n    1,\n    {}\n  ]\n}|"
            "\"é\\n\\\"\"|\"\\u00e9\"|{\"a\": 2, \"b\": 1}");
}

TEST(ChatTemplateErrors, SyntaxErrorsNameLineAndColumn) {
  EXPECT_NE(error_of("a\n{% if x %}\nb\n{% endfor %}").find("test: line 4, column 4: unexpected 'endfor'"),
            std::string::npos);
  EXPECT_NE(error_of("x\n\n{{ 1 + }}").find("line 3, column 8"), std::string::npos);
  EXPECT_NE(error_of("ok\n{{ x|no_such_filter }}").find("line 2, column 6: unknown filter 'no_such_filter'"),
            std::string::npos);
  EXPECT_NE(error_of("{% if x is no_such_test %}{% endif %}").find("unknown test 'no_such_test'"), std::string::npos);
  EXPECT_NE(error_of("{% if true %}never closed").find("unexpected end of template"), std::string::npos);
  EXPECT_NE(error_of("\n{% include 'x' %}").find("line 2, column 4: unsupported tag 'include'"), std::string::npos);
  EXPECT_NE(error_of("{{ 'open }}").find("unterminated string literal"), std::string::npos);
  EXPECT_NE(error_of("{{ x ").find("unterminated tag"), std::string::npos);
}

TEST(ChatTemplateErrors, RuntimeErrorsAndRaiseException) {
  std::string raised = error_of("line 1\n{%- if messages|length == 0 %}{{ raise_exception('No messages given!') }}{% endif %}");
  EXPECT_NE(raised.find("line 2"), std::string::npos) << raised;
  EXPECT_NE(raised.find("No messages given!"), std::string::npos) << raised;
  EXPECT_NE(error_of("\n{{ 'a' + 1 }}").find("line 2"), std::string::npos);
  EXPECT_NE(error_of("{{ x.y }}").find("'x' is undefined"), std::string::npos);
  EXPECT_NE(error_of("{% for x in 5 %}{% endfor %}").find("not iterable"), std::string::npos);
  EXPECT_NE(error_of("{{ 1 / 0 }}").find("division by zero"), std::string::npos);
  EXPECT_NE(error_of("{% set s = 'x' %}{% set s.a = 1 %}").find("not a namespace"), std::string::npos);
}

TEST(ChatTemplateErrors, HostileTemplatesAreBounded) {
  EXPECT_NE(error_of("{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}").find("nested deeper"), std::string::npos);
  EXPECT_NE(error_of("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
                .find("loop iterations"),
            std::string::npos);
  EXPECT_NE(error_of("{{ " + std::string(5000, '[') + std::string(5000, ']') + " }}").find("nested too deeply"),
            std::string::npos);
  EXPECT_NE(error_of("{{ 'a' * 1000000000 }}").find("too large"), std::string::npos);
  EXPECT_NE(error_of("{{ range(10000000) }}").find("range too big"), std::string::npos);
}

TEST(ChatTemplateLoading, SourcesInPriorityOrder) {
  // The fixture has chat_template.json, and its eos/pad tokens become variables.
  EXPECT_NE(fixture_template().origin().find("chat_template.json"), std::string::npos);
  EXPECT_EQ(fixture_template().source(), read_text_file(kFixture + "/chat_template.jinja"));

  std::string jinja_dir = make_temp_dir("jinja");
  write_file(jinja_dir + "/chat_template.jinja", "J{{ eos_token }}");
  write_file(jinja_dir + "/tokenizer_config.json",
             R"({"chat_template": "C", "eos_token": {"content": "<eos>", "lstrip": false}, "bos_token": null})");
  EXPECT_EQ(ChatTemplate::load_from_dir(jinja_dir).render(OrderedJson::array(), false), "J<eos>");

  std::string config_dir = make_temp_dir("config_list");
  write_file(config_dir + "/tokenizer_config.json",
             R"({"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D{{ bos_token }}"}],
                 "bos_token": "<s>"})");
  EXPECT_EQ(ChatTemplate::load_from_dir(config_dir).render(OrderedJson::array(), false), "D<s>");

  std::string empty_dir = make_temp_dir("empty");
  try {
    ChatTemplate::load_from_dir(empty_dir);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(empty_dir), std::string::npos);
  }
}

TEST(ChatTemplateJinja, SafeMarkupEscapesThePlainSideOfPlus) {
  // Jinja2 quirk that Qwen3-Coder style templates hit: `x|tojson|safe` is a
  // Markup, and str + Markup HTML-escapes the str. `~` does not escape.
  EXPECT_EQ(render_text("{% set v = [1]|tojson|safe %}{{ '<p>' + v }}|{{ '<p>' ~ v }}|{{ v + '&' }}|{{ '<'|e }}"),
            "&lt;p&gt;[1]|<p>[1]|[1]&amp;|&lt;");
}

TEST(ChatTemplateJinja, MacrosRenderContentParts) {
  const std::string source =
      "{%- macro render_content(content, is_system=false) %}"
      "{%- if content is string %}{{- content }}"
      "{%- elif content is iterable and content is not mapping %}"
      "{%- for item in content %}"
      "{%- if item.type == 'image' %}{%- if is_system %}{{- raise_exception('System message cannot contain images.') }}"
      "{%- endif %}<img>{%- elif 'text' in item %}{{- item.text }}{%- endif %}"
      "{%- endfor %}"
      "{%- endif %}"
      "{%- endmacro %}"
      "{%- for m in messages %}[{{ render_content(m.content, m.role == 'system')|trim }}]{% endfor %}";
  OrderedJson messages = OrderedJson::parse(R"([{"role": "system", "content": " S "},
      {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "hi "}]}])");
  EXPECT_EQ(ChatTemplate(source).render(messages, false), "[S][<img>hi]");
  OrderedJson bad = OrderedJson::parse(R"([{"role": "system", "content": [{"type": "image"}]}])");
  try {
    ChatTemplate(source).render(bad, false);
    FAIL() << "expected raise_exception to throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("System message cannot contain images."), std::string::npos);
  }
}

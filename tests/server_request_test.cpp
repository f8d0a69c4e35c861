// The server's request side: JSON bodies, OpenAI field validation, the
// image-source policy, API keys, and the response shapes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdio.h>  // renameat2
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "qwen3vl/image/data_uri.h"
#include "server/api_error.h"
#include "server/api_key.h"
#include "server/chat_request.h"
#include "server/chat_response.h"
#include "server/image_sources.h"
#include "server/metrics.h"
#include "server/request_json.h"

using namespace qwen3vl;
using namespace qwen3vl::server;

namespace {

const std::string kGolden = std::string(QWEN3VL_FIXTURE_DIR) + "/golden";

ApiError error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ApiError& e) {
    return e;
  }
  ADD_FAILURE() << "no ApiError";
  return ApiError(0, "", "");
}

ChatRequest parse(const std::string& json) { return parse_chat_request(Json::parse(json), 4096, 77); }

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST(ServerRequest, ParsesJsonWithANestingLimit) {
  EXPECT_EQ(parse_request_json(R"({"a": [1, {"b": 2}]})", 8)["a"][1]["b"], 2);
  EXPECT_NO_THROW(parse_request_json(std::string(8, '[') + std::string(8, ']'), 8));
  const ApiError deep = error_of([] { parse_request_json(std::string(9, '[') + std::string(9, ']'), 8); });
  EXPECT_EQ(deep.status(), 400);
  EXPECT_NE(std::string(deep.what()).find("nested deeper than 8"), std::string::npos);
  // A million brackets are refused while parsing, without exhausting the stack.
  EXPECT_EQ(error_of([] { parse_request_json(std::string(1000000, '['), 64); }).status(), 400);
  const ApiError truncated = error_of([] { parse_request_json(R"({"messages": [)", 64); });
  EXPECT_NE(std::string(truncated.what()).find("not valid JSON"), std::string::npos);
  EXPECT_EQ(error_of([] { parse_request_json("", 64); }).status(), 400);
  EXPECT_EQ(error_of([] { parse_request_json("{\"a\": \"\xff\"}", 64); }).status(), 400);  // not UTF-8
}

TEST(ServerRequest, TranslatesOpenAIFieldsIntoGenerateOptions) {
  const ChatRequest r = parse(R"({
    "model": "m", "messages": [{"role": "developer", "content": "be brief"}, {"role": "user", "content": "hi"}],
    "max_completion_tokens": 12, "temperature": 0.7, "top_p": 0.9, "top_k": 20, "min_p": 0.05,
    "presence_penalty": 0.5, "frequency_penalty": -0.25, "seed": 42, "stop": ["a", "b"],
    "stream": true, "stream_options": {"include_usage": true}, "n": 1,
    "chat_template_kwargs": {"enable_thinking": false}, "user": "ignored", "some_future_field": {"x": 1}})");
  EXPECT_EQ(r.model, "m");
  EXPECT_EQ(r.messages[0]["role"], "system");
  EXPECT_EQ(r.options.max_tokens, 12);
  EXPECT_FLOAT_EQ(*r.options.sampling.temperature, 0.7f);
  EXPECT_FLOAT_EQ(*r.options.sampling.top_p, 0.9f);
  EXPECT_EQ(*r.options.sampling.top_k, 20);
  EXPECT_FLOAT_EQ(*r.options.sampling.min_p, 0.05f);
  EXPECT_FLOAT_EQ(*r.options.sampling.presence_penalty, 0.5f);
  EXPECT_FLOAT_EQ(*r.options.sampling.frequency_penalty, -0.25f);
  EXPECT_EQ(r.options.sampling.seed, 42u);
  EXPECT_EQ(r.options.stop, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_EQ(r.options.template_extra["enable_thinking"], false);
  EXPECT_FALSE(r.parse_tool_calls);
}

TEST(ServerRequest, DefaultsFillTheContextAndDrawASeed) {
  const ChatRequest r = parse(R"({"messages": [{"role": "user", "content": "hi"}]})");
  EXPECT_EQ(r.options.max_tokens, 4096);
  EXPECT_EQ(r.options.sampling.seed, 77u);
  EXPECT_FALSE(r.options.sampling.temperature.has_value());  // the model's generation_config decides
  EXPECT_EQ(parse(R"({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 100000})").options.max_tokens, 4096);
}

TEST(ServerRequest, ToolsAndToolChoiceReachTheTemplate) {
  const std::string tools =
      R"([{"type": "function", "function": {"name": "a", "parameters": {"type": "object"}}},
          {"type": "function", "function": {"name": "b"}}])";
  const std::string base = R"({"messages": [{"role": "user", "content": "hi"}], "tools": )" + tools;
  ChatRequest r = parse(base + "}");
  EXPECT_TRUE(r.parse_tool_calls);
  EXPECT_EQ(r.options.template_extra["tools"].size(), 2u);
  EXPECT_EQ(r.options.template_extra["tools"][0]["function"]["name"], "a");
  r = parse(base + R"(, "tool_choice": "none"})");
  EXPECT_FALSE(r.parse_tool_calls);
  EXPECT_FALSE(r.options.template_extra.contains("tools"));
  r = parse(base + R"(, "tool_choice": {"type": "function", "function": {"name": "b"}}})");
  ASSERT_EQ(r.options.template_extra["tools"].size(), 1u);
  EXPECT_EQ(r.options.template_extra["tools"][0]["function"]["name"], "b");
  EXPECT_EQ(error_of([&] { parse(base + R"(, "tool_choice": {"type": "function", "function": {"name": "zz"}}})"); })
                .param(),
            "tool_choice");
  // Assistant tool calls and tool results are accepted as history.
  r = parse(R"({"messages": [{"role": "user", "content": "hi"},
    {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
      "function": {"name": "a", "arguments": "{\"x\": 1}"}}]},
    {"role": "tool", "tool_call_id": "c1", "content": "42"}]})");
  EXPECT_EQ(r.messages.size(), 3u);
}

TEST(ServerRequest, WrongTypesAndValuesNameTheField) {
  struct Case {
    const char* body;
    const char* param;
  };
  const Case cases[] = {
      {R"({"messages": "hi"})", "messages"},
      {R"({})", "messages"},
      {R"({"messages": []})", "messages"},
      {R"({"messages": [{"role": "user", "content": "x"}], "temperature": "hot"})", "temperature"},
      {R"({"messages": [{"role": "user", "content": "x"}], "temperature": 3})", "temperature"},
      {R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 0})", "max_tokens"},
      {R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 1.5})", "max_tokens"},
      {R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 18446744073709551615})", "max_tokens"},
      {R"({"messages": [{"role": "user", "content": "x"}], "top_p": 1.5})", "top_p"},
      {R"({"messages": [{"role": "user", "content": "x"}], "n": 2})", "n"},
      {R"({"messages": [{"role": "user", "content": "x"}], "stream": "yes"})", "stream"},
      {R"({"messages": [{"role": "user", "content": "x"}], "stop": [1]})", "stop"},
      {R"({"messages": [{"role": "user", "content": "x"}], "seed": "s"})", "seed"},
      {R"({"messages": [{"role": "user", "content": "x"}], "tools": {}})", "tools"},
      {R"({"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]})", "tools"},
      {R"({"messages": [{"role": "user", "content": "x"}], "logprobs": true})", "logprobs"},
      {R"({"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_schema"}})",
       "response_format"},
      {R"({"messages": [{"role": "user", "content": "x"}], "model": 5})", "model"},
      {R"({"messages": [{"content": "x"}]})", "messages"},
      {R"({"messages": [{"role": "user", "content": "x", "tool_calls": []}]})", "messages"},
  };
  for (const auto& c : cases) {
    const ApiError e = error_of([&] { parse(c.body); });
    EXPECT_EQ(e.status(), 400) << c.body;
    EXPECT_EQ(e.param(), c.param) << c.body << ": " << e.what();
    EXPECT_EQ(e.body()["error"]["type"], "invalid_request_error");
  }
  EXPECT_EQ(error_of([] { parse_chat_request(Json::array(), 10, 0); }).status(), 400);
}

TEST(ServerRequest, ImagePolicyAcceptsDataUrisAndConfinesLocalPaths) {
  const auto png = read_bytes(kGolden + "/img_400x300.png");
  const std::string uri = make_data_uri("image/png", png.data(), png.size());
  auto no_fetch = [](const std::string& url) -> std::vector<uint8_t> {
    ADD_FAILURE() << "fetched " << url;
    return {};
  };
  ImageSourcePolicy policy;
  Json m = Json::parse(R"([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": ""}},
                                                       {"type": "text", "text": "what?"}]}])");
  m[0]["content"][0]["image_url"]["url"] = uri;
  EXPECT_EQ(resolve_image_sources(m, policy, no_fetch), 1);
  EXPECT_EQ(m[0]["content"][0]["image_url"]["url"], uri);

  auto with_url = [&](const std::string& url) {
    Json j = Json::parse(R"([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": ""}}]}])");
    j[0]["content"][0]["image_url"]["url"] = url;
    return j;
  };
  auto refusal = [&](const std::string& url, const ImageSourcePolicy& p) {
    Json j = with_url(url);
    return error_of([&] { resolve_image_sources(j, p, no_fetch); });
  };
  EXPECT_EQ(refusal("data:image/png;base64,!!!!", policy).code(), "invalid_image");
  EXPECT_EQ(refusal("data:image/png;base64,aGVsbG8gd29ybGQ=", policy).code(), "invalid_image");  // not an image
  EXPECT_EQ(refusal("https://example.com/cat.png", policy).code(), "image_source_not_allowed");
  EXPECT_EQ(refusal("/etc/passwd", policy).code(), "image_source_not_allowed");
  EXPECT_EQ(refusal("ftp://example.com/x.png", policy).code(), "image_source_not_allowed");
  ImageSourcePolicy tiny = policy;
  tiny.max_image_bytes = 1000;
  EXPECT_EQ(refusal(uri, tiny).code(), "image_too_large");

  // A folder with an image, a symlink to it, and a symlink leading out.
  const auto dir = std::filesystem::temp_directory_path() / ("qwen3vl_images_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir / "inner");
  std::filesystem::copy_file(kGolden + "/img_400x300.png", dir / "inner" / "a.png",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::remove(dir / "link.png");
  std::filesystem::remove(dir / "escape.png");
  std::filesystem::create_symlink(dir / "inner" / "a.png", dir / "link.png");
  std::filesystem::create_symlink(kGolden + "/img_240x520.jpg", dir / "escape.png");
  ImageSourcePolicy local = policy;
  local.local_root = dir.string();
  for (const std::string& ok : {std::string("inner/a.png"), (dir / "link.png").string(),
                               "file://" + (dir / "inner" / "a.png").string()}) {
    Json j = with_url(ok);
    EXPECT_EQ(resolve_image_sources(j, local, no_fetch), 1) << ok;
    EXPECT_EQ(j[0]["content"][0]["image_url"]["url"], uri) << ok;  // the same bytes, as a data URI
  }
  EXPECT_EQ(refusal("escape.png", local).code(), "image_source_not_allowed");
  EXPECT_EQ(refusal("inner/../../x.png", local).code(), "image_not_found");
  EXPECT_EQ(refusal(kGolden + "/img_400x300.png", local).code(), "image_source_not_allowed");
  EXPECT_EQ(refusal("missing.png", local).code(), "image_not_found");
  EXPECT_EQ(refusal("inner", local).code(), "invalid_image");
  std::filesystem::remove_all(dir);

  ImageSourcePolicy remote = policy;
  remote.allow_remote = true;
  Json j = with_url("http://127.0.0.1:1/x.png");
  resolve_image_sources(j, remote, [&](const std::string& url) {
    EXPECT_EQ(url, "http://127.0.0.1:1/x.png");
    return png;
  });
  EXPECT_EQ(j[0]["content"][0]["image_url"]["url"], uri);

  ImageSourcePolicy few = policy;
  few.max_images_per_request = 1;
  Json two = Json::parse(R"([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": ""}},
                                                         {"type": "image_url", "image_url": {"url": ""}}]}])");
  two[0]["content"][0]["image_url"]["url"] = uri;
  two[0]["content"][1]["image_url"]["url"] = uri;
  EXPECT_EQ(error_of([&] { resolve_image_sources(two, few, no_fetch); }).code(), "too_many_images");
}

// The check-then-open race. A request names "inner/a.png" inside the allowed
// folder; right after that path passed its check, and before it is opened
// (the test hook runs exactly there), the real folder "inner" is exchanged
// with a symlink to a folder outside (renameat2 RENAME_EXCHANGE, atomic).
// Opening what was checked would now read the outside file; the verdict on
// the opened descriptor refuses it. Without the swap the same path is served.
TEST(ServerRequest, ALocalPathSwappedBetweenCheckAndOpenNeverLeadsOut) {
  namespace fs = std::filesystem;
  const fs::path base = fs::temp_directory_path() / ("qwen3vl_swap_" + std::to_string(getpid()));
  fs::remove_all(base);
  const fs::path root = base / "allowed", outside = base / "secret";
  fs::create_directories(root / "inner");
  fs::create_directories(outside);
  fs::copy_file(kGolden + "/img_400x300.png", root / "inner" / "a.png");
  fs::copy_file(kGolden + "/img_240x520.jpg", outside / "a.png");
  fs::create_symlink(outside, root / "swap");
  const auto inside_png = read_bytes(kGolden + "/img_400x300.png");
  const std::string inside_uri = make_data_uri("image/png", inside_png.data(), inside_png.size());

  ImageSourcePolicy policy;
  policy.local_root = root.string();
  auto no_fetch = [](const std::string&) -> std::vector<uint8_t> { return {}; };
  auto request = [] {
    return Json::parse(R"([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "inner/a.png"}}]}])");
  };
  Json plain = request();
  EXPECT_EQ(resolve_image_sources(plain, policy, no_fetch), 1);
  EXPECT_EQ(plain[0]["content"][0]["image_url"]["url"], inside_uri);

  int swaps = 0;
  set_local_open_hook_for_tests([&] {
    ASSERT_EQ(::renameat2(AT_FDCWD, (root / "inner").c_str(), AT_FDCWD, (root / "swap").c_str(), RENAME_EXCHANGE), 0)
        << std::strerror(errno);
    ++swaps;
  });
  Json raced = request();
  const ApiError e = error_of([&] { resolve_image_sources(raced, policy, no_fetch); });
  set_local_open_hook_for_tests(nullptr);
  EXPECT_EQ(swaps, 1);
  EXPECT_EQ(e.code(), "image_source_not_allowed") << e.what();
  EXPECT_NE(std::string(e.what()).find("changed while it was opened"), std::string::npos) << e.what();
  EXPECT_TRUE(fs::is_symlink(root / "inner"));  // the swap happened: "inner" now leads outside
  fs::remove_all(base);
}

TEST(ServerRequest, ApiKeyComparison) {
  EXPECT_TRUE(constant_time_equal("secret", "secret"));
  EXPECT_FALSE(constant_time_equal("secreT", "secret"));
  EXPECT_FALSE(constant_time_equal("secret-longer", "secret"));
  EXPECT_FALSE(constant_time_equal("sec", "secret"));
  EXPECT_FALSE(constant_time_equal("", "secret"));
  EXPECT_TRUE(authorized("Bearer secret", "secret"));
  EXPECT_TRUE(authorized("bearer secret", "secret"));
  EXPECT_FALSE(authorized("Bearer secret ", "secret"));
  EXPECT_FALSE(authorized("secret", "secret"));
  EXPECT_FALSE(authorized("Basic secret", "secret"));
  EXPECT_FALSE(authorized("", "secret"));
  EXPECT_TRUE(authorized("", ""));  // no key configured
}

TEST(ServerResponse, ShapesFollowOpenAI) {
  AssistantOutputParser::Options po;
  po.parse_tool_calls = true;
  po.new_call_id = [] { return std::string("call_x"); };
  AssistantOutputParser p(po);
  p.push("<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": 1}}</tool_call>");
  p.finish();
  const CompletionIdentity who{"chatcmpl-1", "m", 123};
  const Json c = completion_json(who, p, "tool_calls", {10, 3, 4});
  EXPECT_EQ(c["object"], "chat.completion");
  EXPECT_EQ(c["choices"][0]["message"]["role"], "assistant");
  EXPECT_TRUE(c["choices"][0]["message"]["content"].is_null());
  EXPECT_EQ(c["choices"][0]["message"]["tool_calls"][0]["id"], "call_x");
  EXPECT_EQ(c["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"], "{\"a\": 1}");
  EXPECT_EQ(c["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(c["usage"]["total_tokens"], 13);
  EXPECT_EQ(c["usage"]["prompt_tokens_details"]["cached_tokens"], 4);
  const Json chunk = chunk_json(who, Json{{"content", "hi"}});
  EXPECT_EQ(chunk["object"], "chat.completion.chunk");
  EXPECT_TRUE(chunk["choices"][0]["finish_reason"].is_null());
  EXPECT_EQ(sse_event(Json{{"a", 1}}), "data: {\"a\":1}\n\n");
  EXPECT_EQ(sse_event(Json{{"a", std::string("\xff")}}), "data: {\"a\":\"\xef\xbf\xbd\"}\n\n");
  const Json usage = usage_chunk_json(who, {1, 2, 0});
  EXPECT_TRUE(usage["choices"].empty());
  const Json err = invalid_request("bad", "temperature", "invalid_value").body();
  EXPECT_EQ(err["error"]["message"], "bad");
  EXPECT_EQ(err["error"]["param"], "temperature");
  EXPECT_TRUE(ApiError(500, "server_error", "x").body()["error"]["param"].is_null());
}

TEST(ServerMetrics, PrometheusTextCarriesEveryFigure) {
  Metrics m;
  m.count_request(200);
  m.count_request(400);
  m.add_prompt_tokens(10);
  m.add_completion_tokens(5);
  m.add_prefix_cache_hit_tokens(7);
  m.count_image_cache_hit();
  m.set_queue_depth(3);
  m.set_active_slots(2);
  m.add_decode(20, 2.0);
  const std::string t = m.prometheus_text(4);
  for (const char* line : {"qwen3vl_requests_total{status=\"2xx\"} 1", "qwen3vl_requests_total{status=\"4xx\"} 1",
                           "qwen3vl_prompt_tokens_total 10", "qwen3vl_completion_tokens_total 5",
                           "qwen3vl_prefix_cache_hit_tokens_total 7", "qwen3vl_image_cache_hits_total 1",
                           "qwen3vl_queue_depth 3", "qwen3vl_active_slots 2", "qwen3vl_slots 4",
                           "qwen3vl_decode_tokens_per_second 10", "# TYPE qwen3vl_completion_tokens_total counter"})
    EXPECT_NE(t.find(line), std::string::npos) << line << "\n" << t;
}

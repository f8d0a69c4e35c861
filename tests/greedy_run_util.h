// Runs a golden case of the tiny fixture through the public API with greedy
// sampling and keeps what tests compare: the generated ids, the last prompt
// row's logits and the image embeddings.
#pragma once
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "qwen3vl/base/json.h"
#include "qwen3vl/qwen3vl.h"

struct GreedyRun {
  std::vector<int32_t> ids;
  std::vector<float> logits_last;
  std::vector<float> image_embeds;
};

// `messages_file` is a golden case file in the fixture's golden/ folder: a
// "<case>.messages.json" array, or a "<case>.json" whose "messages" it uses.
inline GreedyRun run_greedy(const std::shared_ptr<qwen3vl::Model>& model, const std::string& messages_file,
                            int max_tokens) {
  using namespace qwen3vl;
  const std::string golden = std::string(QWEN3VL_FIXTURE_DIR) + "/golden/";
  Session session(model);
  session.set_base_dir(golden);
  const Json messages = messages_file.ends_with(".messages.json")
                            ? load_json_file(golden + messages_file)
                            : load_json_file(golden + messages_file)["messages"];
  GenerateOptions g;
  g.max_tokens = max_tokens;
  g.sampling.temperature = 0.0f;
  GreedyRun out;
  TensorCapture capture;
  capture.f32 = [&](const std::string& name, const std::vector<int64_t>& shape, const float* data) {
    size_t n = 1;
    for (int64_t d : shape) n *= static_cast<size_t>(d);
    if (name == "logits_last") out.logits_last.assign(data, data + n);
    if (name == "image_embeds") out.image_embeds.assign(data, data + n);
  };
  out.ids = session.generate(messages, g, {}, &capture).output_ids;
  return out;
}

// The reference's greedy ids for a golden case ("case1_text", ...).
inline std::vector<int32_t> golden_generated_ids(const std::string& case_name) {
  return qwen3vl::load_json_file(std::string(QWEN3VL_FIXTURE_DIR) + "/golden/" + case_name + ".json")["generated_ids"]
      .get<std::vector<int32_t>>();
}

// One golden case of a fixture as text-decoder input: the prompt ids, its
// 3-row rope positions and, for images, the golden visual embeddings placed at
// the image-pad rows, plus the reference's greedy ids; and the decoder run the
// way a caller runs it (shared weights, own workspace). Shared by the dense
// and MoE decoder tests.
#pragma once
#include <gtest/gtest.h>

#include <array>
#include <span>
#include <string>
#include <vector>

#include "qwen3vl/io/safetensors.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/model/text_decoder.h"
#include "test_pool.h"

namespace qwen3vl::testing {

inline std::vector<int32_t> golden_i32(const TensorView& t) {
  EXPECT_EQ(t.dtype, DType::I64) << t.name;
  const auto* p = static_cast<const int64_t*>(t.data);
  return std::vector<int32_t>(p, p + t.numel());
}

// The shared, read-only decoder plus the scratch one caller runs it with.
struct DecoderRun {
  template <typename... Args>
  explicit DecoderRun(Args&&... args) : decoder(std::forward<Args>(args)...) {}

  KVCache make_cache(int64_t context, KVCacheType type = KVCacheType::F32) const {
    return decoder.make_cache(context, type);
  }
  std::span<const float> forward(const DecoderInput& in, KVCache& cache, const LogitsRequest& request = {}) {
    return decoder.forward(in, cache, workspace, ForwardContext{test_pool(), capture}, request);
  }

  TextDecoder decoder;
  DecoderWorkspace workspace;
  const TensorSink* capture = nullptr;
};

struct GoldenDecoderCase {
  GoldenDecoderCase(const std::string& fixture, const std::string& name)
      : golden(fixture + "/golden/" + name + ".safetensors"), config(load_model_config(fixture + "/config.json")) {
    ids = golden_i32(golden.get("input_ids"));
    const std::vector<int32_t> pos = golden_i32(golden.get("position_ids"));
    const size_t L = ids.size();
    for (int a = 0; a < 3; ++a) positions[a].assign(pos.begin() + a * L, pos.begin() + (a + 1) * L);
    rope_delta = golden_i32(golden.get("rope_deltas"))[0];
    for (size_t r = 0; r < L; ++r)
      if (ids[r] == config.image_token_id) image_rows.push_back(static_cast<int32_t>(r));
    if (golden.has("image_embeds")) {
      image_embeds = golden.get("image_embeds").to_f32();
      for (int j = 0; golden.has("deepstack_" + std::to_string(j)); ++j)
        deepstack.push_back(golden.get("deepstack_" + std::to_string(j)).to_f32());
    }
    generated = golden_i32(golden.get("generated_ids"));
  }

  // The prompt rows [begin, end) as a decoder chunk (valid until the next call).
  DecoderInput chunk(size_t begin, size_t end) {
    DecoderInput in;
    in.ids = std::span<const int32_t>(ids).subspan(begin, end - begin);
    for (int a = 0; a < 3; ++a) in.positions[a] = std::span<const int32_t>(positions[a]).subspan(begin, end - begin);
    chunk_rows.clear();
    size_t first_image = 0;
    for (size_t i = 0; i < image_rows.size(); ++i) {
      if (static_cast<size_t>(image_rows[i]) < begin) first_image = i + 1;
      else if (static_cast<size_t>(image_rows[i]) < end) chunk_rows.push_back(image_rows[i] - static_cast<int32_t>(begin));
    }
    if (!chunk_rows.empty()) {
      const int64_t H = config.text.hidden_size;
      in.visual_rows = chunk_rows;
      in.visual_embeds = image_embeds.data() + first_image * H;
      for (const auto& d : deepstack) in.deepstack.push_back(d.data() + first_image * H);
    }
    return in;
  }
  DecoderInput prompt() { return chunk(0, ids.size()); }

  SafetensorsFile golden;
  ModelConfig config;
  std::vector<int32_t> ids;
  std::array<std::vector<int32_t>, 3> positions;
  int32_t rope_delta = 0;
  std::vector<int32_t> image_rows, chunk_rows;
  std::vector<float> image_embeds;
  std::vector<std::vector<float>> deepstack;
  std::vector<int32_t> generated;
};

}  // namespace qwen3vl::testing

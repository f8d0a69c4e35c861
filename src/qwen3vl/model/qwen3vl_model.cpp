#include "qwen3vl/model/qwen3vl_model.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "qwen3vl/base/error.h"
#include "qwen3vl/model/vision_inputs.h"

namespace qwen3vl {

namespace {

// Collects the float captures of several calls under each name, rows
// appended, and emits each name once, concatenated: the vision tower runs
// once per medium, the reference runs it once over all media of a kind.
class ConcatenatingSink {
 public:
  TensorSink sink() {
    TensorSink s;
    s.f32 = [this](const std::string& name, const std::vector<int64_t>& shape, const float* data) {
      const int64_t cols = shape.size() > 1 ? shape.back() : 1;
      int64_t count = 1;
      for (int64_t d : shape) count *= d;
      auto [it, fresh] = tensors_.try_emplace(name);
      if (fresh) order_.push_back(name);
      it->second.cols = cols;
      it->second.values.insert(it->second.values.end(), data, data + count);
    };
    return s;
  }

  void emit(const TensorSink& out, const std::string& prefix) const {
    for (const std::string& name : order_) {
      const Tensor& t = tensors_.at(name);
      out.put(prefix + name, {static_cast<int64_t>(t.values.size()) / t.cols, t.cols}, t.values.data());
    }
  }

 private:
  struct Tensor {
    int64_t cols = 1;
    std::vector<float> values;
  };
  std::map<std::string, Tensor> tensors_;
  std::vector<std::string> order_;
};

// Logit rows wider than this many values in all are not captured whole.
constexpr int64_t kMaxCapturedLogits = 200'000'000;

}  // namespace

size_t MediaEncoding::bytes() const {
  size_t n = embeds.size();
  for (const auto& d : deepstack) n += d.size();
  return n * sizeof(float);
}

Qwen3VLModel::Qwen3VLModel(const ModelConfig& config, const WeightSource& weights,
                           const ModelWeightsOptions& options)
    : config_(config), decoder_(config, weights, DecoderOptions{options.weights}) {
  if (options.load_vision) vision_.emplace(config, weights, VisionEncoderOptions{options.weights});
}

KVCache Qwen3VLModel::make_cache(int64_t context_length, KVCacheType type) const {
  return decoder_.make_cache(context_length, type);
}

int64_t Qwen3VLModel::media_tokens(const MediaGrid& medium) const { return qwen3vl::media_tokens(config_, medium); }

PromptLayout Qwen3VLModel::layout_prompt(std::span<const int32_t> ids, std::span<const MediaGrid> media) const {
  return qwen3vl::layout_prompt(config_, ids, media);
}

std::vector<std::shared_ptr<const MediaEncoding>> Qwen3VLModel::encode_media(std::span<const MediaPixels> media,
                                                                           const ForwardContext& ctx) const {
  if (!media.empty() && !vision_) throw Error("this model was loaded without its vision encoder");
  const int64_t patch_dim = config_.vision.patch_dim();
  std::map<MediaKind, ConcatenatingSink> traces, outputs;
  std::map<MediaKind, std::vector<int64_t>> grids_thw;
  std::vector<std::shared_ptr<const MediaEncoding>> result;
  for (size_t i = 0; i < media.size(); ++i) {
    const MediaPixels& m = media[i];
    const std::string what = std::string(media_kind_name(m.kind)) + " " + std::to_string(i + 1);
    validate_vision_grid(m.grid, config_.vision.spatial_merge_size, what);
    check(static_cast<int64_t>(m.pixel_values.size()) == m.grid.patches() * patch_dim,
          what + ": " + std::to_string(m.pixel_values.size()) + " pixel values for a grid of " +
              std::to_string(m.grid.patches()) + " patches of " + std::to_string(patch_dim));
    const VisionInputs inputs = vision_->prepare({m.grid});
    TensorSink trace_sink;
    ForwardContext tower_ctx{ctx.pool};
    if (ctx.capturing()) {
      trace_sink = traces[m.kind].sink();
      tower_ctx.capture = &trace_sink;
    }
    VisionEncoderOutput out = vision_->encode(m.pixel_values.data(), inputs, tower_ctx);
    auto e = std::make_shared<MediaEncoding>();
    e->kind = m.kind;
    e->grid = m.grid;
    e->tokens = out.num_tokens;
    e->hidden = out.out_hidden;
    e->embeds = std::move(out.image_embeds);
    e->deepstack = std::move(out.deepstack);
    if (ctx.capturing()) {
      const TensorSink s = outputs[m.kind].sink();
      const std::string kind = media_kind_name(m.kind);
      s.put(m.kind == MediaKind::Image ? "pixel_values" : "pixel_values_videos", {m.grid.patches(), patch_dim},
            m.pixel_values.data());
      s.put(kind + "_embeds", {e->tokens, e->hidden}, e->embeds.data());
      for (size_t j = 0; j < e->deepstack.size(); ++j)
        s.put(kind + "_deepstack_" + std::to_string(j), {e->tokens, e->hidden}, e->deepstack[j].data());
      grids_thw[m.kind].insert(grids_thw[m.kind].end(), {m.grid.t, m.grid.h, m.grid.w});
    }
    result.push_back(std::move(e));
  }
  if (ctx.capturing()) {
    for (const auto& [kind, sink] : traces) sink.emit(*ctx.capture, kind == MediaKind::Image ? "" : "video_");
    for (const auto& [kind, sink] : outputs) sink.emit(*ctx.capture, "");
    for (const auto& [kind, thw] : grids_thw)
      ctx.capture->put(std::string(media_kind_name(kind)) + "_grid_thw", {static_cast<int64_t>(thw.size() / 3), 3},
                       thw.data());
  }
  return result;
}

std::span<const float> Qwen3VLModel::prefill(const PromptLayout& prompt,
                                             std::span<const std::shared_ptr<const MediaEncoding>> encodings,
                                             int64_t first_row, KVCache& cache, DecoderWorkspace& ws,
                                             const ForwardContext& ctx, const PrefillOptions& options) const {
  const int64_t length = prompt.length();
  const int64_t H = config_.text.hidden_size, V = config_.text.vocab_size;
  check(first_row >= 0 && first_row < length, "prefill: first row " + std::to_string(first_row) +
                                                  " is outside the prompt of " + std::to_string(length) + " tokens");
  check(options.end_row == 0 || (options.end_row > first_row && options.end_row <= length),
        "prefill: end row " + std::to_string(options.end_row) + " is not after the first row " +
            std::to_string(first_row) + " and within the prompt of " + std::to_string(length) + " tokens");
  // Rows [first_row, L) run now: the whole rest of the prompt, or a part of it.
  const int64_t L = options.end_row > 0 ? options.end_row : length;
  check(cache.size() == first_row, "prefill: the cache holds " + std::to_string(cache.size()) +
                                       " tokens, expected the first " + std::to_string(first_row) + " of the prompt");
  check(encodings.size() == prompt.media.size(), "prefill: " + std::to_string(encodings.size()) +
                                                     " encodings for " + std::to_string(prompt.media.size()) +
                                                     " media");
  const std::vector<bool> needed = prompt.media_needed_from(first_row);
  const size_t levels = config_.vision.deepstack_visual_indexes.size();
  for (size_t i = 0; i < prompt.media.size(); ++i) {
    if (!needed[i]) continue;
    const MediaEncoding* e = encodings[i].get();
    check(e != nullptr, "prefill: " + std::string(media_kind_name(prompt.media[i].kind)) + " " +
                            std::to_string(i + 1) + " was not encoded");
    check(e->tokens == prompt.media[i].tokens && e->hidden == H && e->deepstack.size() == levels &&
              e->grid == prompt.media[i].grid,
          "prefill: the encoding of medium " + std::to_string(i + 1) + " does not fit its place in the prompt");
  }

  const bool capturing = ctx.capturing();
  if (ctx.capture && ctx.capture->i64) {
    const std::vector<int64_t> ids64(prompt.ids.begin(), prompt.ids.end());
    std::vector<int64_t> positions;
    for (const auto& axis : prompt.positions) positions.insert(positions.end(), axis.begin(), axis.end());
    ctx.capture->put("input_ids", {length}, ids64.data());
    ctx.capture->put("position_ids", {3, length}, positions.data());
    ctx.capture->put("rope_deltas", {1}, &prompt.rope_delta);
  }

  // Row r's visual features: medium row_medium[r], its k-th row, where k
  // counts from the medium's first visual row.
  auto visual_feature = [&](size_t visual_index, int level) {
    const int32_t row = prompt.visual_rows[visual_index];
    const MediaPlacement& m = prompt.media[prompt.row_medium[row]];
    const MediaEncoding& e = *encodings[prompt.row_medium[row]];
    const float* base = level < 0 ? e.embeds.data() : e.deepstack[level].data();
    return base + (static_cast<int64_t>(visual_index) - m.first_visual) * H;
  };
  if (capturing && first_row == 0 && !prompt.visual_rows.empty()) {
    // The DeepStack tensor the decoder adds: every visual row in sequence order.
    std::vector<float> joint(prompt.visual_rows.size() * H);
    for (size_t j = 0; j < levels; ++j) {
      for (size_t i = 0; i < prompt.visual_rows.size(); ++i)
        std::memcpy(&joint[i * H], visual_feature(i, static_cast<int>(j)), H * sizeof(float));
      ctx.capture->put("deepstack_" + std::to_string(j), {static_cast<int64_t>(prompt.visual_rows.size()), H},
                       joint.data());
    }
  }

  // One chunk when capturing, so every row's logits exist.
  const int64_t chunk = capturing ? L - first_row : std::max<int64_t>(1, options.chunk_rows);
  size_t visual_cursor = std::lower_bound(prompt.visual_rows.begin(), prompt.visual_rows.end(), first_row) -
                         prompt.visual_rows.begin();
  std::vector<int32_t> chunk_visual_rows;
  std::vector<float> chunk_embeds, chunk_deepstack;
  std::span<const float> logits;
  for (int64_t c0 = first_row; c0 < L; c0 += chunk) {
    const int64_t c1 = std::min(L, c0 + chunk), n = c1 - c0;
    DecoderInput in;
    in.ids = std::span<const int32_t>(prompt.ids).subspan(c0, n);
    for (int a = 0; a < 3; ++a) in.positions[a] = std::span<const int32_t>(prompt.positions[a]).subspan(c0, n);
    // Gather the chunk's visual rows from their media into one block per level.
    const size_t first_visual = visual_cursor;
    while (visual_cursor < prompt.visual_rows.size() && prompt.visual_rows[visual_cursor] < c1) ++visual_cursor;
    const size_t count = visual_cursor - first_visual;
    chunk_visual_rows.resize(count);
    chunk_embeds.resize(count * H);
    chunk_deepstack.resize(count * H * levels);
    for (size_t i = 0; i < count; ++i) {
      chunk_visual_rows[i] = static_cast<int32_t>(prompt.visual_rows[first_visual + i] - c0);
      std::memcpy(&chunk_embeds[i * H], visual_feature(first_visual + i, -1), H * sizeof(float));
      for (size_t j = 0; j < levels; ++j)
        std::memcpy(&chunk_deepstack[(j * count + i) * H], visual_feature(first_visual + i, static_cast<int>(j)),
                    H * sizeof(float));
    }
    if (count > 0) {
      in.visual_rows = chunk_visual_rows;
      in.visual_embeds = chunk_embeds.data();
      for (size_t j = 0; j < levels; ++j) in.deepstack.push_back(chunk_deepstack.data() + j * count * H);
    }
    LogitsRequest request;
    request.all_rows = capturing && n * V <= kMaxCapturedLogits;
    logits = decoder_.forward(in, cache, ws, ctx, request);
    if (request.all_rows) {
      const int64_t cols = std::min<int64_t>(256, V);
      std::vector<float> leading(static_cast<size_t>(n * cols));
      for (int64_t r = 0; r < n; ++r) std::memcpy(&leading[r * cols], logits.data() + r * V, cols * sizeof(float));
      ctx.capture->put("logits_first256", {n, cols}, leading.data());
      logits = logits.subspan((n - 1) * V, V);
    }
  }
  if (capturing) ctx.capture->put("logits_last", {V}, logits.data());
  return logits;
}

std::span<const float> Qwen3VLModel::decode_step(int32_t token, int64_t rope_delta, KVCache& cache,
                                                 DecoderWorkspace& ws, const ForwardContext& ctx) const {
  const int32_t position = static_cast<int32_t>(cache.size() + rope_delta);
  DecoderInput in;
  in.ids = std::span<const int32_t>(&token, 1);
  for (auto& axis : in.positions) axis = std::span<const int32_t>(&position, 1);
  return decoder_.forward(in, cache, ws, ctx);
}

std::span<const float> Qwen3VLModel::decode_batch(std::span<const DecodeRequest> sequences, DecoderWorkspace& ws,
                                                  const ForwardContext& ctx) const {
  std::vector<int32_t> ids, positions;
  std::vector<KVCache*> caches;
  for (const DecodeRequest& s : sequences) {
    check(s.cache != nullptr, "decode_batch: a sequence without a KV cache");
    ids.push_back(s.token);
    positions.push_back(static_cast<int32_t>(s.cache->size() + s.rope_delta));
    caches.push_back(s.cache);
  }
  const std::span<const int32_t> p(positions);
  return decoder_.decode_batch(ids, {p, p, p}, caches, ws, ctx);
}

}  // namespace qwen3vl

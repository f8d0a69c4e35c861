// The pipeline behind the public API: messages -> chat template -> tokens ->
// images -> vision encoder -> 3-D positions -> prefill -> sampled tokens ->
// streamed text.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>

#include "qwen3vl/base/mapped_file.h"
#include "qwen3vl/image/image_decode.h"
#include "qwen3vl/image/preprocess.h"
#include "qwen3vl/model/rope_index.h"
#include "qwen3vl/qwen3vl.h"
#include "qwen3vl/runtime/messages.h"
#include "qwen3vl/runtime/model_impl.h"
#include "qwen3vl/runtime/sampler.h"
#include "qwen3vl/runtime/stop_strings.h"
#include "qwen3vl/runtime/kv_cache_choice.h"
#include "qwen3vl/tokenizer/chat_template.h"
#include "qwen3vl/tokenizer/tokenizer.h"

namespace qwen3vl {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

constexpr int64_t kPrefillChunk = 512;

const TextDecoder& loaded_decoder(const Model& m) {
  if (!m.impl().decoder) throw Error("the model was loaded without weights (LoadOptions::load_weights)");
  return *m.impl().decoder;
}

}  // namespace

struct Session::Impl {
  std::shared_ptr<const Model> model;
  TextDecoder decoder;  // shares the model's weights; owns its scratch buffers
  KVCache cache;
  std::string base_dir;

  explicit Impl(std::shared_ptr<const Model> m)
      : model(std::move(m)),
        decoder(loaded_decoder(*model)),
        cache(decoder.make_cache(model->load_options().context_length,
                                 resolved_kv_cache_type(model->load_options()))) {}

  std::string resolve_image(const std::string& source) const {
    if (source.rfind("data:", 0) == 0 || base_dir.empty() || file_exists(source) || source[0] == '/') return source;
    return base_dir + "/" + source;
  }
};

Session::Session(std::shared_ptr<const Model> model) : impl_(std::make_unique<Impl>(std::move(model))) {}
Session::~Session() = default;
void Session::set_base_dir(const std::string& dir) { impl_->base_dir = dir; }

GenerationResult Session::generate(const Json& messages, const GenerateOptions& options,
                                   const std::function<bool(std::string_view)>& on_text,
                                   const TensorCapture* capture) {
  const auto start = Clock::now();
  const Model::Impl& m = impl_->model->impl();
  const ModelConfig& cfg = m.config;
  GenerationResult result;

  // 1. Messages and template.
  const NormalizedMessages normalized = normalize_messages(messages);
  const std::string prompt = m.chat_template->render(normalized.messages, true, options.template_extra);
  std::vector<int32_t> ids = m.tokenizer->encode(prompt, true);

  // 2. Images: decode, preprocess.
  ImageSizeLimits limits;
  limits.min_tokens = options.image.min_tokens;
  limits.max_tokens = options.image.max_tokens;
  DecodeLimits decode_limits;
  if (options.image.max_input_pixels > 0) decode_limits.max_pixels = options.image.max_input_pixels;
  std::vector<PreprocessedImage> images;
  for (size_t i = 0; i < normalized.images.size(); ++i) {
    auto t = Clock::now();
    RgbImage rgb;
    try {
      rgb = load_image(impl_->resolve_image(normalized.images[i].source), decode_limits);
    } catch (const Error& e) {
      throw Error("image " + std::to_string(i + 1) + ": " + e.what());
    }
    result.timings.image_decode_ms += ms_since(t);
    t = Clock::now();
    images.push_back(preprocess_image(rgb, m.preprocessor, *m.pool, limits));
    result.timings.preprocess_ms += ms_since(t);
  }

  // 3. Expand each <|image_pad|> to its image's merged-token count.
  const int merge = cfg.vision.spatial_merge_size;
  const int64_t pads = std::count(ids.begin(), ids.end(), cfg.image_token_id);
  if (pads != static_cast<int64_t>(images.size()))
    throw Error("the prompt has " + std::to_string(pads) + " <|image_pad|> tokens but " +
                std::to_string(images.size()) + " images were given");
  std::vector<VisionGrid> grids;
  for (const auto& img : images) grids.push_back({img.grid.t, img.grid.h, img.grid.w});
  std::vector<int32_t> expanded;
  std::vector<int32_t> image_rows;
  {
    size_t next_image = 0;
    for (int32_t id : ids) {
      if (id == cfg.image_token_id) {
        const int64_t n = grids[next_image++].merged_tokens(merge);
        for (int64_t k = 0; k < n; ++k) {
          image_rows.push_back(static_cast<int32_t>(expanded.size()));
          expanded.push_back(id);
        }
      } else {
        expanded.push_back(id);
      }
    }
  }
  ids.swap(expanded);
  result.image_tokens = static_cast<int>(image_rows.size());
  const int64_t L = static_cast<int64_t>(ids.size());
  const int64_t capacity = impl_->cache.capacity();
  if (L >= capacity)
    throw Error("the prompt is " + std::to_string(L) + " tokens but the context holds " + std::to_string(capacity) +
                " (raise --ctx, or use fewer/smaller images: --image-max-tokens)");
  if (L >= cfg.text.max_position_embeddings)
    throw Error("the prompt is " + std::to_string(L) + " tokens, beyond the model's maximum of " +
                std::to_string(cfg.text.max_position_embeddings));

  // 4. Vision encoder.
  VisionEncoderOutput vision;
  if (!images.empty()) {
    if (!m.vision) throw Error("this model was loaded without its vision encoder");
    auto t = Clock::now();
    std::vector<float> pixels;
    for (const auto& img : images) pixels.insert(pixels.end(), img.pixel_values.begin(), img.pixel_values.end());
    const VisionInputs inputs = m.vision->prepare(grids);
    VisionCaptureFn vcap;
    if (capture && capture->f32)
      vcap = [&](const std::string& name, const float* data, int64_t rows, int64_t cols) {
        capture->f32(name, {rows, cols}, data);
      };
    vision = m.vision->encode(pixels.data(), inputs, vcap);
    result.timings.vision_ms = ms_since(t);
    if (capture) {
      const int64_t pd = cfg.vision.patch_dim();
      if (capture->f32) {
        capture->f32("pixel_values", {static_cast<int64_t>(pixels.size()) / pd, pd}, pixels.data());
        capture->f32("image_embeds", {vision.num_tokens, vision.out_hidden}, vision.image_embeds.data());
        for (size_t j = 0; j < vision.deepstack.size(); ++j)
          capture->f32("deepstack_" + std::to_string(j), {vision.num_tokens, vision.out_hidden},
                       vision.deepstack[j].data());
      }
      if (capture->i64) {
        std::vector<int64_t> thw;
        for (const auto& g : grids) thw.insert(thw.end(), {g.t, g.h, g.w});
        capture->i64("image_grid_thw", {static_cast<int64_t>(grids.size()), 3}, thw.data());
      }
    }
  }

  // 5. 3-D rope positions.
  const std::vector<int64_t> ids64(ids.begin(), ids.end());
  const RopeIndex rope = compute_rope_index(ids64, grids, {}, RopeIndexSpec::from_config(cfg));
  if (capture && capture->i64) {
    capture->i64("input_ids", {L}, ids64.data());
    capture->i64("position_ids", {3, L}, rope.positions.data());
    capture->i64("rope_deltas", {1}, &rope.rope_delta);
  }
  std::array<std::vector<int32_t>, 3> positions;
  for (int a = 0; a < 3; ++a) positions[a].assign(rope.axis(a), rope.axis(a) + L);

  // 6. Prefill in chunks (one chunk when capturing, so every row's logits exist).
  KVCache& cache = impl_->cache;
  TextDecoder& decoder = impl_->decoder;
  cache.clear();
  if (capture && capture->f32)
    decoder.set_capture([&](const std::string& name, const float* data, int64_t rows, int64_t cols) {
      capture->f32(name, {rows, cols}, data);
    });
  else
    decoder.set_capture({});
  if (capture && capture->i64)
    decoder.set_index_capture([&](const std::string& name, const int64_t* data, int64_t rows, int64_t cols) {
      capture->i64(name, {rows, cols}, data);
    });
  else
    decoder.set_index_capture({});
  auto t_prefill = Clock::now();
  const int64_t chunk = capture ? L : kPrefillChunk;
  std::vector<float> last_logits;
  size_t image_cursor = 0;
  const int64_t hidden = cfg.text.hidden_size;
  for (int64_t c0 = 0; c0 < L; c0 += chunk) {
    const int64_t c1 = std::min(L, c0 + chunk);
    DecoderInput in;
    in.ids = std::span<const int32_t>(ids.data() + c0, c1 - c0);
    for (int a = 0; a < 3; ++a) in.positions[a] = std::span<const int32_t>(positions[a].data() + c0, c1 - c0);
    std::vector<int32_t> rows;
    const size_t first_image = image_cursor;
    while (image_cursor < image_rows.size() && image_rows[image_cursor] < c1)
      rows.push_back(static_cast<int32_t>(image_rows[image_cursor++] - c0));
    in.image_rows = rows;
    if (!rows.empty()) {
      in.image_embeds = vision.image_embeds.data() + first_image * hidden;
      for (const auto& d : vision.deepstack) in.deepstack.push_back(d.data() + first_image * hidden);
    }
    LogitsRequest req;
    const bool want_all = capture && capture->f32 && (c1 - c0) * cfg.text.vocab_size <= 200'000'000;
    req.all_rows = want_all;
    const auto logits = decoder.forward(in, cache, req);
    if (c1 == L) {
      const int64_t V = cfg.text.vocab_size;
      const float* last = want_all ? logits.data() + (c1 - c0 - 1) * V : logits.data();
      last_logits.assign(last, last + V);
      if (want_all) {
        const int64_t n = c1 - c0, cols = std::min<int64_t>(256, V);
        std::vector<float> first(static_cast<size_t>(n * cols));
        for (int64_t r = 0; r < n; ++r) std::memcpy(&first[r * cols], logits.data() + r * V, cols * 4);
        capture->f32("logits_first256", {n, cols}, first.data());
      }
    }
  }
  decoder.set_capture({});
  // While decoding, a capture collects the routing of each token fed back
  // (MoE models): generated_router_topk_ids_layer{i}, one row per step.
  std::map<std::string, std::vector<int64_t>> decode_routing;
  std::map<std::string, int64_t> decode_routing_cols;
  if (capture && capture->i64)
    decoder.set_index_capture([&](const std::string& name, const int64_t* data, int64_t rows, int64_t cols) {
      decode_routing[name].insert(decode_routing[name].end(), data, data + rows * cols);
      decode_routing_cols[name] = cols;
    });
  result.timings.prefill_ms = ms_since(t_prefill);
  if (capture && capture->f32) capture->f32("logits_last", {cfg.text.vocab_size}, last_logits.data());

  // 7. Decode.
  SamplingParams sp;
  const GenerationConfig& gen = m.generation;
  const auto& so = options.sampling;
  sp.temperature = so.temperature.value_or(gen.do_sample ? gen.temperature : 0.0f);
  sp.top_k = so.top_k.value_or(gen.top_k);
  sp.top_p = so.top_p.value_or(gen.top_p);
  sp.min_p = so.min_p.value_or(gen.min_p);
  sp.repetition_penalty = so.repetition_penalty.value_or(gen.repetition_penalty);
  sp.presence_penalty = so.presence_penalty.value_or(gen.presence_penalty);
  sp.frequency_penalty = so.frequency_penalty.value_or(0.0f);
  sp.seed = so.seed;
  Sampler sampler(sp);
  sampler.add_prompt(ids);

  StopStringFilter filter(options.stop);
  StreamDecoder detok(*m.tokenizer);
  const int64_t room = capacity - L;
  const int max_new = static_cast<int>(std::min<int64_t>(options.max_tokens, room));
  result.finish_reason = "length";
  auto t_decode = Clock::now();
  std::vector<float> logits = std::move(last_logits);
  bool stopped = false, stop_string_hit = false;
  for (int step = 0; step < max_new && !stopped; ++step) {
    const int32_t token = sampler.sample(logits);
    if (step == 0) {
      result.timings.ttft_ms = ms_since(start);
      t_decode = Clock::now();
    }
    if (std::find(gen.eos_token_ids.begin(), gen.eos_token_ids.end(), token) != gen.eos_token_ids.end()) {
      result.finish_reason = "stop";
      break;
    }
    sampler.accept(token);
    result.output_ids.push_back(token);
    const std::string piece = detok.put(token);
    const StopStringFilter::Output out = filter.push(piece);
    result.text += out.emit;
    if (on_text && !out.emit.empty() && !on_text(out.emit)) stopped = true;
    if (out.stopped) {
      result.finish_reason = "stop";
      stop_string_hit = true;
      break;
    }
    if (stopped || step + 1 == max_new) break;
    // Next token: decode position = cache position + rope delta on all axes.
    const int32_t pos = static_cast<int32_t>(cache.size() + rope.rope_delta);
    DecoderInput in;
    in.ids = std::span<const int32_t>(&token, 1);
    for (int a = 0; a < 3; ++a) in.positions[a] = std::span<const int32_t>(&pos, 1);
    const auto next = decoder.forward(in, cache, {});
    logits.assign(next.begin(), next.end());
  }
  if (capture && capture->i64 && cfg.text.is_moe()) {
    // The loop does not feed back the last token it emits; a capture wants
    // that token's routing too (as the reference records it).
    const int64_t fed = decode_routing.empty() ? 0
                            : static_cast<int64_t>(decode_routing.begin()->second.size()) /
                                  std::max<int64_t>(1, decode_routing_cols.begin()->second);
    if (fed < static_cast<int64_t>(result.output_ids.size()) && cache.size() < capacity) {
      const int32_t token = result.output_ids.back();
      const int32_t pos = static_cast<int32_t>(cache.size() + rope.rope_delta);
      DecoderInput in;
      in.ids = std::span<const int32_t>(&token, 1);
      for (int a = 0; a < 3; ++a) in.positions[a] = std::span<const int32_t>(&pos, 1);
      decoder.forward(in, cache, {});
    }
    for (const auto& [name, values] : decode_routing) {
      const int64_t cols = decode_routing_cols[name];
      capture->i64("generated_" + name, {static_cast<int64_t>(values.size()) / cols, cols}, values.data());
    }
  }
  decoder.set_index_capture({});
  if (!stop_string_hit) {  // text held back for a possible stop string is part of the answer
    const std::string tail = filter.flush(detok.flush());
    result.text += tail;
    if (on_text && !tail.empty()) on_text(tail);
  }
  result.timings.decode_ms = ms_since(t_decode);
  result.prompt_ids = std::move(ids);
  return result;
}

}  // namespace qwen3vl

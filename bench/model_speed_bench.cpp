// End-to-end compute-bound timings on a real-shaped checkpoint: the vision
// encoder (preprocess + encode) on a synthetic image and a prefill of N
// tokens through the text decoder. A plain main, not a google benchmark:
// one run of a multi-second stage is the measurement.
//
// Run: build/bin/model_speed_bench MODEL_DIR [--quant auto|q8|q4|bf16|f32]
//        [--vision WxH]... [--prefill N] [--repeat R]
// e.g. build/bin/model_speed_bench /work/models/4b --quant q8 --vision 448x448 --vision 1000x750 --prefill 512
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/image/preprocess.h"
#include "qwen3vl/image/rgb_image.h"
#include "qwen3vl/io/checkpoint.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/model/text_decoder.h"
#include "qwen3vl/model/vision_encoder.h"
#include "qwen3vl/weights/weight_formats.h"

using namespace qwen3vl;

namespace {

// CPU seconds used by the whole process: with other jobs sharing the cores,
// wall time overstates the cost; cpu/threads is the wall time on idle cores.
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A deterministic, non-constant picture (gradients plus a checkerboard) so
// the bicubic resize and the patch values are realistic.
RgbImage synthetic_image(int width, int height) {
  RgbImage img(width, height);
  for (int y = 0; y < height; ++y) {
    uint8_t* row = img.row(y);
    for (int x = 0; x < width; ++x) {
      const bool check = ((x / 37) + (y / 23)) % 2 == 0;
      row[3 * x + 0] = static_cast<uint8_t>((x * 255) / std::max(1, width - 1));
      row[3 * x + 1] = static_cast<uint8_t>((y * 255) / std::max(1, height - 1));
      row[3 * x + 2] = static_cast<uint8_t>(check ? 200 : 40);
    }
  }
  return img;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL_DIR [--quant NAME] [--vision WxH]... [--prefill N] [--repeat R]\n",
                 argv[0]);
    return 2;
  }
  try {
    const std::string dir = argv[1];
    std::string quant = "auto";
    std::vector<std::pair<int, int>> images;
    int prefill = 0, repeat = 1;
    for (int i = 2; i + 1 < argc; i += 2) {
      const std::string flag = argv[i], value = argv[i + 1];
      if (flag == "--quant") quant = value;
      else if (flag == "--prefill") prefill = std::atoi(value.c_str());
      else if (flag == "--repeat") repeat = std::max(1, std::atoi(value.c_str()));
      else if (flag == "--vision") {
        int w = 0, h = 0;
        if (std::sscanf(value.c_str(), "%dx%d", &w, &h) != 2) throw Error("--vision wants WxH, got " + value);
        images.emplace_back(w, h);
      } else {
        throw Error("unknown flag " + flag);
      }
    }
    const ModelConfig config = load_model_config(dir + "/config.json");
    const PreprocessorConfig pre = load_preprocessor_config(dir + "/preprocessor_config.json");
    Checkpoint ckpt(dir);
    ThreadPool pool(0);
    const WeightOptions weights = weight_options_from_name(quant, pool);
    std::printf("model %s, quant %s, %d threads\n", dir.c_str(), quant.c_str(), pool.size());

    if (!images.empty()) {
      auto t0 = std::chrono::steady_clock::now();
      VisionEncoderOptions vo;
      vo.weights = weights;
      VisionEncoder encoder(config, ckpt, vo);
      std::printf("vision load %.2f s\n", seconds_since(t0));
      for (auto [w, h] : images) {
        const RgbImage img = synthetic_image(w, h);
        for (int r = 0; r < repeat; ++r) {
          auto t1 = std::chrono::steady_clock::now();
          const PreprocessedImage p = preprocess_image(img, pre, pool);
          const double t_pre = seconds_since(t1);
          const VisionGrid grid = p.grid;
          const VisionInputs inputs = encoder.prepare({grid});
          auto t2 = std::chrono::steady_clock::now();
          const double c2 = process_cpu_seconds();
          const VisionEncoderOutput out = encoder.encode(p.pixel_values.data(), inputs, ForwardContext{pool});
          const double t_enc = seconds_since(t2), c_enc = process_cpu_seconds() - c2;
          std::printf("vision %dx%d -> %dx%d, %lld patches, %lld tokens: preprocess %.3f s, encode %.3f s wall, "
                      "%.3f s cpu (%.3f s at %d idle threads)\n",
                      w, h, p.resized_width, p.resized_height, static_cast<long long>(grid.patches()),
                      static_cast<long long>(out.num_tokens), t_pre, t_enc, c_enc,
                      c_enc / pool.size(), pool.size());
        }
      }
    }
    if (prefill > 0) {
      auto t0 = std::chrono::steady_clock::now();
      DecoderOptions dopts;
      dopts.weights = weights;
      TextDecoder decoder(config, ckpt, dopts);
      DecoderWorkspace workspace;
      std::printf("decoder load %.2f s\n", seconds_since(t0));
      std::vector<int32_t> ids(static_cast<size_t>(prefill)), pos(static_cast<size_t>(prefill));
      for (int i = 0; i < prefill; ++i) {
        ids[i] = static_cast<int32_t>((i * 7919 + 13) % 150000);
        pos[i] = i;
      }
      for (int r = 0; r < repeat; ++r) {
        KVCache cache = decoder.make_cache(prefill + 16);
        DecoderInput in;
        in.ids = ids;
        in.positions = {std::span<const int32_t>(pos), std::span<const int32_t>(pos), std::span<const int32_t>(pos)};
        auto t1 = std::chrono::steady_clock::now();
        const double c1 = process_cpu_seconds();
        decoder.forward(in, cache, workspace, ForwardContext{pool});
        const double t = seconds_since(t1), c = (process_cpu_seconds() - c1) / pool.size();
        std::printf("prefill %d tokens: %.3f s wall, %.1f tok/s; %.3f s cpu/threads, %.1f tok/s on idle cores\n",
                    prefill, t, prefill / t, c, prefill / c);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}

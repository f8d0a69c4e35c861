// Image preprocessing cost on a large photo-sized input (4000x3000 RGB):
// the Pillow-exact bicubic resize alone and the whole preprocess.
#include <benchmark/benchmark.h>

#include <random>

#include "qwen3vl/image/bicubic_resize.h"
#include "qwen3vl/image/preprocess.h"

using namespace qwen3vl;

namespace {

// One thread per core, as a loaded model would use.
qwen3vl::ThreadPool& bench_pool() {
  static qwen3vl::ThreadPool pool(0);
  return pool;
}

RgbImage random_image(int w, int h) {
  RgbImage img(w, h);
  std::mt19937 rng(1);
  for (auto& v : img.pixels) v = static_cast<uint8_t>(rng());
  return img;
}

void BM_ResizeBicubic4000x3000To1152x864(benchmark::State& state) {
  const RgbImage img = random_image(4000, 3000);
  for (auto _ : state) benchmark::DoNotOptimize(resize_bicubic(img, 1152, 864, bench_pool()));
}
BENCHMARK(BM_ResizeBicubic4000x3000To1152x864)->Unit(benchmark::kMillisecond);

void BM_Preprocess4000x3000DefaultBounds(benchmark::State& state) {
  const RgbImage img = random_image(4000, 3000);
  PreprocessorConfig cfg;  // max 1003520 pixels -> 832x1120
  cfg.patch_size = 16;
  for (auto _ : state) benchmark::DoNotOptimize(preprocess_image(img, cfg, bench_pool()));
}
BENCHMARK(BM_Preprocess4000x3000DefaultBounds)->Unit(benchmark::kMillisecond);

void BM_Preprocess4000x3000Upscale16M(benchmark::State& state) {
  // The fixture's bounds (up to 16.7M pixels) keep 4000x3000 near full size.
  const RgbImage img = random_image(4000, 3000);
  PreprocessorConfig cfg;
  cfg.patch_size = 16;
  cfg.min_pixels = 65536;
  cfg.max_pixels = 16777216;
  for (auto _ : state) benchmark::DoNotOptimize(preprocess_image(img, cfg, bench_pool()));
}
BENCHMARK(BM_Preprocess4000x3000Upscale16M)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

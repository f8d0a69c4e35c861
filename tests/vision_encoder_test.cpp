#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/io/checkpoint.h"
#include "qwen3vl/io/safetensors.h"
#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/model/vision_encoder.h"
#include "qwen3vl/weights/weight_formats.h"
#include "test_pool.h"

using namespace qwen3vl;

namespace {

const std::string kFixture = QWEN3VL_FIXTURE_DIR;
constexpr float kTolerance = 1e-4f;  // fixture README: vision tensors, float32

float max_abs_diff(const float* a, const std::vector<float>& b, size_t n) {
  EXPECT_EQ(n, b.size());
  float worst = 0.0f;
  for (size_t i = 0; i < std::min(n, b.size()); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

std::vector<VisionGrid> golden_grids(const SafetensorsFile& f) {
  const TensorView& g = f.get("image_grid_thw");
  return vision_grids_from_thw(static_cast<const int64_t*>(g.data), g.shape[0]);
}

struct Fixture {
  ModelConfig config = load_model_config(kFixture + "/config.json");
  Checkpoint checkpoint{kFixture};
  VisionEncoder encoder{config, checkpoint, VisionEncoderOptions{}};
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

// Compares every captured intermediate and every output with the golden.
void expect_matches_golden(const SafetensorsFile& golden, const std::map<std::string, std::vector<float>>& captured,
                           const VisionEncoderOutput& out) {
  const VisionConfig& c = fixture().config.vision;
  std::vector<std::string> names = {"vision_patch_embed", "vision_pos_embeds"};
  for (int b = 0; b < c.depth; ++b) names.push_back("vision_block" + std::to_string(b) + "_out");
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    auto it = captured.find(name);
    ASSERT_NE(it, captured.end());
    EXPECT_LT(max_abs_diff(it->second.data(), golden.get(name).to_f32(), it->second.size()), kTolerance);
  }
  EXPECT_EQ(out.num_tokens, golden.get("image_embeds").shape[0]);
  EXPECT_EQ(out.out_hidden, c.out_hidden_size);
  EXPECT_LT(max_abs_diff(out.image_embeds.data(), golden.get("image_embeds").to_f32(), out.image_embeds.size()),
            kTolerance);
  ASSERT_EQ(out.deepstack.size(), c.deepstack_visual_indexes.size());
  for (size_t j = 0; j < out.deepstack.size(); ++j) {
    SCOPED_TRACE("deepstack_" + std::to_string(j));
    EXPECT_LT(max_abs_diff(out.deepstack[j].data(), golden.get("deepstack_" + std::to_string(j)).to_f32(),
                           out.deepstack[j].size()),
              kTolerance);
  }
}

ForwardContext plain() { return ForwardContext{qwen3vl::testing::test_pool()}; }

TensorSink capture_into(std::map<std::string, std::vector<float>>& store) {
  TensorSink sink;
  sink.f32 = [&store](const std::string& name, const std::vector<int64_t>& shape, const float* data) {
    store[name].assign(data, data + shape[0] * shape[1]);
  };
  return sink;
}

}  // namespace

TEST(VisionEncoder, OneImageFromPixelValuesMatchesGolden) {
  SafetensorsFile golden(kFixture + "/golden/case2_one_image.safetensors");
  const VisionEncoder& enc = fixture().encoder;
  const VisionInputs inputs = enc.prepare(golden_grids(golden));
  const std::vector<float> pixels = golden.get("pixel_values").to_f32();
  ASSERT_EQ(static_cast<int64_t>(pixels.size()), inputs.num_patches * enc.config().patch_dim());
  std::map<std::string, std::vector<float>> captured;
  const TensorSink sink = capture_into(captured);
  const VisionEncoderOutput out = enc.encode(pixels.data(), inputs, ForwardContext{qwen3vl::testing::test_pool(), &sink});
  expect_matches_golden(golden, captured, out);
}

// Case 3's goldens carry resized RGB rather than pixel_values, so this starts
// from its golden patch embeddings; what it checks beyond case 2 is that two
// images of different sizes attend only within themselves.
TEST(VisionEncoder, TwoImagesFromPatchEmbeddingsMatchGolden) {
  SafetensorsFile golden(kFixture + "/golden/case3_two_images.safetensors");
  const VisionEncoder& enc = fixture().encoder;
  const VisionInputs inputs = enc.prepare(golden_grids(golden));
  ASSERT_EQ(inputs.num_segments(), 2);
  const std::vector<float> patch_embeds = golden.get("vision_patch_embed").to_f32();
  std::map<std::string, std::vector<float>> captured;
  const TensorSink sink = capture_into(captured);
  const VisionEncoderOutput out =
      enc.encode_patch_embeddings(patch_embeds.data(), inputs, ForwardContext{qwen3vl::testing::test_pool(), &sink});
  expect_matches_golden(golden, captured, out);
}

TEST(VisionEncoder, EachImageIsEncodedIndependently) {
  // Encoding case 3's second image alone gives the same tokens as its share of
  // the two-image batch.
  SafetensorsFile golden(kFixture + "/golden/case3_two_images.safetensors");
  const VisionEncoder& enc = fixture().encoder;
  const std::vector<VisionGrid> grids = golden_grids(golden);
  const std::vector<float> patch_embeds = golden.get("vision_patch_embed").to_f32();
  const int64_t first_patches = grids[0].patches();
  const int64_t hidden = enc.config().hidden_size;
  const VisionEncoderOutput alone =
      enc.encode_patch_embeddings(patch_embeds.data() + first_patches * hidden, enc.prepare({grids[1]}), plain());
  const std::vector<float> expected = golden.get("image_embeds").to_f32();
  const int64_t skip = grids[0].merged_tokens(2) * alone.out_hidden;
  ASSERT_EQ(alone.image_embeds.size() + skip, expected.size());
  EXPECT_LT(max_abs_diff(alone.image_embeds.data(), std::vector<float>(expected.begin() + skip, expected.end()),
                         alone.image_embeds.size()),
            kTolerance);
}

TEST(VisionEncoder, RejectsInputsPreparedForAnotherModel) {
  const VisionEncoder& enc = fixture().encoder;
  VisionInputsSpec spec = VisionInputsSpec::from_config(enc.config());
  spec.head_dim = 8;
  const VisionInputs wrong = compute_vision_inputs({{1, 2, 2}}, spec);
  std::vector<float> patch_embeds(4 * enc.config().hidden_size, 0.0f);
  EXPECT_THROW(enc.encode_patch_embeddings(patch_embeds.data(), wrong, plain()), Error);
}

TEST(VisionEncoder, NamesTheMissingTensor) {
  // A checkpoint directory holding only the text model's embedding.
  const std::string dir = ::testing::TempDir() + "/vision_missing";
  std::filesystem::create_directories(dir);
  SafetensorsWriter w;
  w.add_f32("model.visual.patch_embed.proj.bias", {32}, std::vector<float>(32, 0.0f));
  w.write(dir + "/model.safetensors");
  Checkpoint partial(dir);
  try {
    VisionEncoder enc(fixture().config, partial, VisionEncoderOptions{});
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.visual.patch_embed.proj.weight"), std::string::npos) << e.what();
  }
}

// With --quant q8 (and q4, whose vision tower is Q8) the tower's linear
// weights are Q8 and activations are quantized per 32 inputs: the result
// must stay close to float32. Measured on case 2: image_embeds cosine
// 0.99983 (bound asserted: 0.999, for image_embeds and every DeepStack output).
static double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

TEST(VisionEncoder, Q8WeightsStayCloseToFloat) {
  SafetensorsFile golden(kFixture + "/golden/case2_one_image.safetensors");
  Fixture& f = fixture();
  VisionEncoderOptions options = VisionEncoderOptions{};
  options.weights = weight_options_from_name("q8", qwen3vl::testing::test_pool());
  const VisionEncoder q8(f.config, f.checkpoint, options);
  const VisionInputs inputs = q8.prepare(golden_grids(golden));
  const std::vector<float> pixels = golden.get("pixel_values").to_f32();
  const VisionEncoderOutput exact = f.encoder.encode(pixels.data(), inputs, plain());
  const VisionEncoderOutput quant = q8.encode(pixels.data(), inputs, plain());
  ASSERT_EQ(quant.image_embeds.size(), exact.image_embeds.size());
  const double c = cosine(quant.image_embeds, exact.image_embeds);
  EXPECT_GE(c, 0.999) << "image_embeds cosine";
  EXPECT_LT(c, 1.0 - 1e-9) << "the Q8 path should differ from float32 at all (weights really quantized)";
  for (size_t j = 0; j < exact.deepstack.size(); ++j)
    EXPECT_GE(cosine(quant.deepstack[j], exact.deepstack[j]), 0.999) << "deepstack " << j;
}

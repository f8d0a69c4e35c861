// The bounded LRU behind EncodingCache: byte budget, eviction order, hits.
#include <gtest/gtest.h>

#include "qwen3vl/runtime/encoding_cache.h"

using namespace qwen3vl;

namespace {

// An encoding holding `floats` values in all (embeddings only).
std::shared_ptr<const MediaEncoding> encoding_of(size_t floats) {
  auto e = std::make_shared<MediaEncoding>();
  e->embeds.assign(floats, 1.0f);
  return e;
}

}  // namespace

TEST(EncodingCache, EvictsTheLeastRecentlyUsedBeyondTheBudget) {
  EncodingCache::Impl cache(100 * sizeof(float));
  cache.insert("a", encoding_of(40));
  cache.insert("b", encoding_of(40));
  EXPECT_EQ(cache.bytes(), 80 * sizeof(float));
  ASSERT_NE(cache.find("a"), nullptr);  // a is now the most recent
  cache.insert("c", encoding_of(40));   // 120 > 100: b goes
  EXPECT_EQ(cache.entries(), 2u);
  EXPECT_EQ(cache.find("b"), nullptr);
  EXPECT_NE(cache.find("a"), nullptr);
  EXPECT_NE(cache.find("c"), nullptr);
  EXPECT_EQ(cache.hits(), 3u);
  EXPECT_EQ(cache.misses(), 1u);
}

TEST(EncodingCache, ReplacesAKeyAndSkipsWhatCannotFit) {
  EncodingCache::Impl cache(100 * sizeof(float));
  cache.insert("a", encoding_of(10));
  cache.insert("a", encoding_of(30));
  EXPECT_EQ(cache.entries(), 1u);
  EXPECT_EQ(cache.bytes(), 30 * sizeof(float));
  cache.insert("huge", encoding_of(101));  // larger than the whole budget
  EXPECT_EQ(cache.find("huge"), nullptr);
  EXPECT_NE(cache.find("a"), nullptr);
  cache.clear();
  EXPECT_EQ(cache.entries(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(EncodingCache, HeldEncodingsOutliveEviction) {
  EncodingCache::Impl cache(10 * sizeof(float));
  cache.insert("a", encoding_of(10));
  const auto held = cache.find("a");
  cache.insert("b", encoding_of(10));
  EXPECT_EQ(cache.find("a"), nullptr);
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(held->embeds.size(), 10u);
}

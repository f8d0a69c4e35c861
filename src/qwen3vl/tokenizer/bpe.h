// Byte-level BPE model: turns one pre-tokenized piece (raw bytes) into token
// ids by starting from single bytes and applying merges lowest rank first
// (leftmost on ties), exactly like the reference implementation. Results for
// pieces seen before come from a bounded, thread-safe cache, because natural
// text repeats the same words constantly.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qwen3vl {

class BpeWordCache;
struct BpeIdIndex;

class BpeModel {
 public:
  // `vocab`: (token as raw bytes, id). `merges`: pairs of raw-byte tokens in
  // rank order (index = rank). `source` names the file in error messages.
  // Throws Error when a merge refers to a token that is not in the vocab or
  // when some single byte has no token (byte-level BPE needs all 256).
  BpeModel(std::vector<std::pair<std::string, int32_t>>&& vocab,
           const std::vector<std::pair<std::string, std::string>>& merges, const std::string& source);
  ~BpeModel();
  BpeModel(BpeModel&&) noexcept;
  BpeModel& operator=(BpeModel&&) noexcept;

  // Appends the ids of `piece` (raw bytes, non-empty) to `out`. Thread-safe.
  void encode_piece(std::string_view piece, std::vector<int32_t>& out) const;
  // Same without touching the cache (the reference path for tests).
  void encode_piece_uncached(std::string_view piece, std::vector<int32_t>& out) const;

  // Raw bytes of a vocab token; empty for ids that are not in the vocab.
  std::string_view token_bytes(int32_t id) const;
  // -1 if the bytes are not a vocab token.
  int32_t id_of_bytes(std::string_view bytes) const;
  // One past the largest vocab id.
  int32_t id_limit() const { return static_cast<int32_t>(token_bytes_.size()); }
  size_t merge_count() const { return merge_count_; }

 private:
  struct MergeSlot {
    uint64_t key;     // (left id << 32) | right id; kEmptyKey when unused
    uint32_t rank;
    int32_t merged;   // id of left+right
  };
  static constexpr uint64_t kEmptyKey = ~0ull;
  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  size_t slot_index(uint64_t key) const { return (key * 0x9E3779B97F4A7C15ull) >> merge_shift_; }
  const MergeSlot* find_merge(int32_t left, int32_t right) const;
  void add_merge(int32_t left, int32_t right, uint32_t rank, int32_t merged);

  std::vector<std::string> token_bytes_;  // by id
  std::unique_ptr<BpeIdIndex> id_index_;   // bytes -> id
  std::vector<MergeSlot> merge_slots_;
  int merge_shift_ = 64;
  size_t merge_count_ = 0;
  int32_t byte_token_[256];
  std::unique_ptr<BpeWordCache> cache_;
};

}  // namespace qwen3vl

#include "qwen3vl/tokenizer/bpe.h"

#include <algorithm>
#include <array>
#include <bit>
#include <mutex>
#include <unordered_map>

#include "qwen3vl/base/error.h"
#include "qwen3vl/tokenizer/byte_level.h"

namespace qwen3vl {

namespace {
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// FNV-1a: vocab tokens are short, and this runs ~600k times while loading.
uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : s) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  return h;
}
}  // namespace

// bytes -> id, open addressing over ids whose bytes live in token_bytes_:
// no per-entry allocation, so building it for 150k tokens is cheap.
struct BpeIdIndex {
  std::vector<int32_t> slots;  // -1 = empty
  size_t mask = 0;

  void build(const std::vector<std::string>& token_bytes, const std::vector<int32_t>& ids) {
    slots.assign(std::bit_ceil(std::max<size_t>(16, ids.size() * 2)), -1);
    mask = slots.size() - 1;
    for (const int32_t id : ids) {
      size_t i = fnv1a(token_bytes[static_cast<size_t>(id)]) & mask;
      while (slots[i] >= 0 && token_bytes[static_cast<size_t>(slots[i])] != token_bytes[static_cast<size_t>(id)])
        i = (i + 1) & mask;
      slots[i] = id;  // a repeated token keeps the later id
    }
  }
  int32_t find(const std::vector<std::string>& token_bytes, std::string_view bytes) const {
    size_t i = fnv1a(bytes) & mask;
    while (slots[i] >= 0) {
      if (token_bytes[static_cast<size_t>(slots[i])] == bytes) return slots[i];
      i = (i + 1) & mask;
    }
    return -1;
  }
};

// Sharded so that concurrent encoders rarely wait on the same lock. Each
// shard is simply emptied when it fills up: cheap, and frequent words come
// straight back.
class BpeWordCache {
 public:
  static constexpr size_t kShards = 16;
  static constexpr size_t kMaxEntriesPerShard = 8192;
  static constexpr size_t kMaxWordBytes = 256;  // longer pieces are rare; don't hoard them

  bool lookup(std::string_view word, size_t hash, std::vector<int32_t>& out) {
    Shard& shard = shards_[hash % kShards];
    std::lock_guard lock(shard.mutex);
    const auto it = shard.map.find(word);
    if (it == shard.map.end()) return false;
    out.insert(out.end(), it->second.begin(), it->second.end());
    return true;
  }

  void insert(std::string_view word, size_t hash, const int32_t* ids, size_t count) {
    Shard& shard = shards_[hash % kShards];
    std::lock_guard lock(shard.mutex);
    if (shard.map.size() >= kMaxEntriesPerShard) shard.map.clear();
    shard.map.emplace(std::string(word), std::vector<int32_t>(ids, ids + count));
  }

 private:
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> map;
  };
  std::array<Shard, kShards> shards_;
};

BpeModel::BpeModel(std::vector<std::pair<std::string, int32_t>>&& vocab,
                   const std::vector<std::pair<std::string, std::string>>& merges, const std::string& source)
    : id_index_(std::make_unique<BpeIdIndex>()), cache_(std::make_unique<BpeWordCache>()) {
  int32_t limit = 0;
  for (const auto& [bytes, id] : vocab) {
    check(id >= 0, source + ": negative token id in model.vocab");
    limit = std::max(limit, id + 1);
  }
  token_bytes_.assign(static_cast<size_t>(limit), std::string());
  std::vector<int32_t> ids;
  ids.reserve(vocab.size());
  for (auto& [bytes, id] : vocab) {
    check(!bytes.empty(), source + ": empty token in model.vocab");
    token_bytes_[static_cast<size_t>(id)] = std::move(bytes);
    ids.push_back(id);
  }
  id_index_->build(token_bytes_, ids);
  for (int b = 0; b < 256; ++b) {
    const int32_t id = id_of_bytes(std::string_view(reinterpret_cast<const char*>(&b), 1));
    if (id < 0)
      throw Error(source + ": model.vocab has no token for byte " + std::to_string(b) +
                  " (byte-level BPE needs all 256)");
    byte_token_[b] = id;
  }

  // Open addressing at <= 50% load: one multiply and usually one probe per lookup.
  const size_t capacity = std::bit_ceil(std::max<size_t>(16, merges.size() * 2));
  merge_shift_ = 64 - std::countr_zero(capacity);
  merge_slots_.assign(capacity, MergeSlot{kEmptyKey, 0, 0});
  std::string joined;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    const int32_t left_id = id_of_bytes(left);
    const int32_t right_id = id_of_bytes(right);
    joined.assign(left).append(right);
    const int32_t merged_id = id_of_bytes(joined);
    if (left_id < 0 || right_id < 0 || merged_id < 0)
      throw Error(source + ": merge #" + std::to_string(rank) + " '" + bytes_to_alphabet(left) + " " +
                  bytes_to_alphabet(right) + "' uses a token that is not in model.vocab");
    add_merge(left_id, right_id, static_cast<uint32_t>(rank), merged_id);
  }
}

BpeModel::~BpeModel() = default;
BpeModel::BpeModel(BpeModel&&) noexcept = default;
BpeModel& BpeModel::operator=(BpeModel&&) noexcept = default;

void BpeModel::add_merge(int32_t left, int32_t right, uint32_t rank, int32_t merged) {
  const uint64_t key = pair_key(left, right);
  size_t i = slot_index(key);
  const size_t mask = merge_slots_.size() - 1;
  while (merge_slots_[i].key != kEmptyKey && merge_slots_[i].key != key) i = (i + 1) & mask;
  // A repeated pair takes the later rank, as the reference's map insert does.
  if (merge_slots_[i].key == kEmptyKey) ++merge_count_;
  merge_slots_[i] = MergeSlot{key, rank, merged};
}

const BpeModel::MergeSlot* BpeModel::find_merge(int32_t left, int32_t right) const {
  const uint64_t key = pair_key(left, right);
  size_t i = slot_index(key);
  const size_t mask = merge_slots_.size() - 1;
  while (true) {
    const MergeSlot& slot = merge_slots_[i];
    if (slot.key == key) return &slot;
    if (slot.key == kEmptyKey) return nullptr;
    i = (i + 1) & mask;
  }
}

std::string_view BpeModel::token_bytes(int32_t id) const {
  if (id < 0 || id >= id_limit()) return {};
  return token_bytes_[static_cast<size_t>(id)];
}

int32_t BpeModel::id_of_bytes(std::string_view bytes) const {
  return id_index_->find(token_bytes_, bytes);
}

void BpeModel::encode_piece(std::string_view piece, std::vector<int32_t>& out) const {
  if (piece.size() == 1) {  // nothing to merge, nothing worth caching
    out.push_back(byte_token_[static_cast<uint8_t>(piece[0])]);
    return;
  }
  const bool cacheable = piece.size() <= BpeWordCache::kMaxWordBytes;
  const size_t hash = StringHash{}(piece);
  if (cacheable && cache_->lookup(piece, hash, out)) return;
  const size_t first = out.size();
  encode_piece_uncached(piece, out);
  if (cacheable) cache_->insert(piece, hash, out.data() + first, out.size() - first);
}

void BpeModel::encode_piece_uncached(std::string_view piece, std::vector<int32_t>& out) const {
  // Symbols form a doubly linked list over the piece's bytes; a merge folds a
  // symbol into its left neighbour. Candidate merges wait in a min-heap
  // ordered by (rank, position); entries made stale by an earlier merge are
  // recognised on pop because a symbol's id changes whenever it absorbs its
  // right neighbour, and only then does its right neighbour change.
  struct Symbol {
    int32_t id, prev, next;
  };
  struct Candidate {
    uint32_t rank;
    int32_t pos, left, right;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  thread_local std::vector<Symbol> symbols;
  thread_local std::vector<Candidate> heap;  // a min-heap via std::push_heap/pop_heap
  const int32_t n = static_cast<int32_t>(piece.size());
  symbols.resize(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i)
    symbols[i] = Symbol{byte_token_[static_cast<uint8_t>(piece[i])], i - 1, i + 1 < n ? i + 1 : -1};

  heap.clear();
  const auto consider = [&](int32_t pos) {
    const int32_t next = symbols[pos].next;
    if (next < 0) return;
    if (const MergeSlot* m = find_merge(symbols[pos].id, symbols[next].id))
    {
      heap.push_back(Candidate{m->rank, pos, symbols[pos].id, symbols[next].id});
      std::push_heap(heap.begin(), heap.end(), std::greater<>{});
    }
  };
  for (int32_t i = 0; i + 1 < n; ++i) consider(i);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<>{});
    const Candidate c = heap.back();
    heap.pop_back();
    Symbol& left = symbols[c.pos];
    if (left.id != c.left || left.next < 0 || symbols[left.next].id != c.right) continue;  // stale
    const MergeSlot* m = find_merge(c.left, c.right);
    const int32_t absorbed = left.next;
    left.id = m->merged;
    left.next = symbols[absorbed].next;
    if (left.next >= 0) symbols[left.next].prev = c.pos;
    symbols[absorbed].id = -1;
    if (left.prev >= 0) consider(left.prev);
    consider(c.pos);
  }
  for (int32_t i = 0; i >= 0; i = symbols[i].next) out.push_back(symbols[i].id);
  // Don't let one huge piece pin its scratch memory to the thread forever.
  if (symbols.capacity() > (1u << 16)) std::vector<Symbol>().swap(symbols);
  if (heap.capacity() > (1u << 16)) std::vector<Candidate>().swap(heap);
}

}  // namespace qwen3vl

// Tokenizer throughput. The text is English-like prose built from a paragraph
// whose words are shuffled, re-cased and mixed with numbers on every
// repetition, so the BPE word cache sees a realistic mix of hits and misses
// rather than one word over and over.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "qwen3vl/tokenizer/tokenizer.h"

namespace {

const std::string kTokenizerPath = std::string(QWEN3VL_SOURCE_DIR) + "/tests/fixtures/tiny-qwen3vl/tokenizer.json";

constexpr const char* kParagraph =
    "Large language models are trained on vast collections of text gathered from books, articles, "
    "websites and conversations. During training, the model learns to predict the next token in a "
    "sequence, gradually building an internal representation of grammar, facts and reasoning patterns. "
    "Researchers have found that scaling the number of parameters, the amount of data and the compute "
    "budget together yields steady improvements; however, evaluation remains difficult, because "
    "benchmarks saturate quickly and real-world usage differs from curated test sets. Vision-language "
    "models extend this idea by encoding images into patches (for example 16x16 pixels) that are "
    "projected into the same embedding space as words, so a single transformer can describe a photo, "
    "answer questions about a chart, or read the text on a street sign in Zürich.";

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (const char c : text) {
    if (c == ' ') {
      if (!word.empty()) words.push_back(word);
      word.clear();
    } else {
      word.push_back(c);
    }
  }
  if (!word.empty()) words.push_back(word);
  return words;
}

// About `bytes` of prose: paragraphs of shuffled words, some capitalised,
// some followed by numbers, with line breaks between paragraphs.
std::string english_like_text(size_t bytes) {
  const std::vector<std::string> words = split_words(kParagraph);
  uint64_t state = 0x243F6A8885A308D3ull;
  const auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(state >> 33);
  };
  std::string text;
  text.reserve(bytes + 256);
  while (text.size() < bytes) {
    const int sentence_words = 60 + static_cast<int>(next() % 60);
    for (int i = 0; i < sentence_words; ++i) {
      std::string w = words[next() % words.size()];
      const uint32_t roll = next() % 100;
      if (roll < 8 && w[0] >= 'a' && w[0] <= 'z') w[0] = static_cast<char>(w[0] - 'a' + 'A');
      if (roll >= 8 && roll < 11) {
        w += ' ';
        w += std::to_string(next() % 100000);
      }
      if (roll == 11) w += "'s";
      text += w;
      text += ' ';
    }
    text += (next() % 3 == 0) ? "\n\n" : "\n";
  }
  return text;
}

const qwen3vl::Tokenizer& tokenizer() {
  static const qwen3vl::Tokenizer t = qwen3vl::Tokenizer::load(kTokenizerPath);
  return t;
}

void BM_EncodeEnglish(benchmark::State& state) {
  const std::string text = english_like_text(static_cast<size_t>(state.range(0)));
  const auto& tok = tokenizer();
  size_t tokens = 0;
  for (auto _ : state) {
    const auto ids = tok.encode(text);
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["tokens"] = static_cast<double>(tokens);
}
BENCHMARK(BM_EncodeEnglish)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

void BM_EncodeChinese(benchmark::State& state) {
  std::string text;
  const char* sentences[] = {"我们来测试一下中文分词。", "视觉语言模型可以描述图片中的内容，", "并回答关于图表的问题！",
                             "今天天气很好，我们去公园散步吧。"};
  for (int i = 0; text.size() < (1 << 18); ++i) text += sentences[(i * 7 + i / 3) % 4];
  const auto& tok = tokenizer();
  for (auto _ : state) benchmark::DoNotOptimize(tok.encode(text).data());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_EncodeChinese)->Unit(benchmark::kMillisecond);

void BM_Decode(benchmark::State& state) {
  const auto& tok = tokenizer();
  const std::string text = english_like_text(1 << 20);
  const auto ids = tok.encode(text);
  for (auto _ : state) benchmark::DoNotOptimize(tok.decode(ids).data());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond);

void BM_Load(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(qwen3vl::Tokenizer::load(kTokenizerPath).vocab_size());
}
BENCHMARK(BM_Load)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace

BENCHMARK_MAIN();

#include "qwen3vl/kernels/kernel_choices.h"

#include <atomic>

namespace qwen3vl {

namespace {

// Read on every attention call from any thread, written at model load.
std::atomic<AttentionProducts> g_quantized_attention{KernelChoices{}.quantized_attention};

}  // namespace

const char* attention_products_name(AttentionProducts p) {
  return p == AttentionProducts::BF16 ? "bf16" : "f32";
}

KernelChoices kernel_choices() {
  KernelChoices c;
  c.quantized_attention = g_quantized_attention.load(std::memory_order_relaxed);
  return c;
}

void set_kernel_choices(const KernelChoices& choices) {
  g_quantized_attention.store(choices.quantized_attention, std::memory_order_relaxed);
}

}  // namespace qwen3vl

// Kernel variants whose speed order depends on the machine, not only on the
// instruction sets it lists: AVX-512 BF16 dot products are about twice the
// float32 FMA rate on AMD Zen 4 but below it on some Intel Xeons. The
// runtime measures the candidates once per CPU model (runtime/kernel_tuning.h)
// and sets the winners here; kernels read them. One process runs on one CPU,
// so the choices are process-wide; until set, the defaults below apply.
#pragma once

namespace qwen3vl {

// How attention multiplies: float32 products, or q, k, v and the softmax
// weights rounded to bfloat16 for the products (sums in float32).
enum class AttentionProducts { F32, BF16 };

const char* attention_products_name(AttentionProducts p);

struct KernelChoices {
  // Attention after quantized projections (AttentionShape::inputs_format Q8
  // or Q4), where the bf16 kernel is allowed and available.
  AttentionProducts quantized_attention = AttentionProducts::BF16;
};

KernelChoices kernel_choices();
void set_kernel_choices(const KernelChoices& choices);

}  // namespace qwen3vl

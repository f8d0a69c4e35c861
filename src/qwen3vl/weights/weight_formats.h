// The user-facing weight formats (--quant) and what each means per weight
// class, plus the converter that performs them at load: the one place that
// decides which format each class of weights is stored and computed in.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/weights/tensor_spec.h"
#include "qwen3vl/weights/weight_loading.h"
#include "qwen3vl/weights/weight_source.h"

namespace qwen3vl {

// "auto": as stored (zero-copy; f32 math). "f32": widened. "bf16": bf16
// everywhere. "q8": int8 everywhere. "q4": int4 attention and MLP, int8
// embedding/head and vision tower (the head and the compute-bound vision
// tower gain little from 4 bits and lose the most accuracy).
// Throws Error for an unknown name. The converter it installs runs on `pool`,
// which must outlive the options' use (the load).
WeightOptions weight_options_from_name(const std::string& name, ThreadPool& pool);

// Converts a stored weight to `target` (quantizing or narrowing as needed),
// spreading the rows over `pool`. Q8/Q4 results are bit-identical to
// quantize_weight's: the tiles are quantized independently.
WeightMatrix convert_weight_format(const WeightMatrix& stored, WeightFormat target, const std::string& name,
                                   ThreadPool& pool);

// quantize_weight on `pool`: slabs of whole 16-row tiles are quantized on
// different threads straight into the result (the layout is tile-major, so a
// slab's bytes are a contiguous range of the whole matrix's).
WeightMatrix quantize_weight_parallel(const WeightMatrix& src, WeightFormat fmt, ThreadPool& pool);

// The quantize-at-load path: converts every matrix of `specs` that has a
// weight class and whose stored format differs from what `options` asks for
// that class (one tensor at a time, its rows in parallel), registers the
// result with source.set_prepared(), and releases the source tensor's pages
// from the resident set, so converting a large checkpoint never holds more
// than the converted weights plus one tensor's source. `progress` (may be
// empty) receives the fraction done.
void prepare_converted_weights(WeightSource& source, const std::vector<TensorSpec>& specs,
                               const WeightOptions& options, const std::function<void(double)>& progress);

}  // namespace qwen3vl

// Numbers as people read them in messages and logs: sizes in B/kB/MB/GB with
// three significant digits, durations in ms or s, plain numbers without
// trailing zeros ("0.5", not "0.500000").
#pragma once
#include <cstdint>
#include <string>

namespace qwen3vl {

// 999 B, 12.3 kB, 1.50 MB, 4.21 GB (decimal units, as disk sizes are sold).
std::string format_bytes(uint64_t bytes);

// 0.42 ms, 12.3 ms, 850 ms, 1.25 s, 12.5 s, 125 s.
std::string format_duration_ms(double ms);

// The shortest of %g: 2, 0.5, 1e-06, nan.
std::string format_number(double value);

// 1,234,567 (thousands separated, for counts of tokens or pixels).
std::string format_count(int64_t value);

}  // namespace qwen3vl

// Bearer-token authentication. The comparison takes the same time whatever
// the key sent, so response timing reveals nothing about how much of it was
// right.
#pragma once
#include <string_view>

namespace qwen3vl::server {

// Compares every byte of both strings (and their lengths) without stopping early.
bool constant_time_equal(std::string_view a, std::string_view b);

// True when `authorization` (the header's value) is "Bearer <expected>".
// An empty `expected` disables authentication.
bool authorized(std::string_view authorization, std::string_view expected);

}  // namespace qwen3vl::server

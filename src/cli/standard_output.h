// Standard output that notices when it fails. An answer written to a full
// disk or a broken device must not vanish with exit status 0: a failed write
// becomes an Error (exit status 1, message on stderr). A reader that went
// away (`qwen3vl run ... | head -c 10`) is the normal end of a pipeline: the
// process then ends quietly by SIGPIPE, as cat or grep do, even when the
// parent had SIGPIPE ignored.
#pragma once
#include <string_view>

namespace qwen3vl::cli {

// Writes and flushes `text`. Returns false after a failure (the caller stops
// producing output); the failure is reported by finish_standard_output().
bool write_standard_output(std::string_view text);

// Flushes stdout (and everything written through std::cout) and throws
// Error if any write failed; on a closed pipe ends the process by SIGPIPE.
void finish_standard_output();

}  // namespace qwen3vl::cli

// Files named by users, or by configs users wrote, are opened without
// trusting what they are: open() never blocks (a FIFO without a writer would
// hang it forever), anything but a regular file is refused with an Error
// saying what it is (a directory, a FIFO, a device such as /dev/zero that
// would grow memory without end), and files read whole into memory are
// capped in size.
#pragma once
#include <cstdint>
#include <string>

namespace qwen3vl {

// Opens `path` read-only with O_NONBLOCK | O_CLOEXEC, checks with fstat that
// it is a regular file and returns the descriptor (the caller closes it);
// *size receives the file size. Throws Error naming the path and the problem.
int open_regular_file(const std::string& path, uint64_t* size);

// Size of the file at `path` (following links), 0 when it cannot be read.
uint64_t file_size_or_zero(const std::string& path);

// "a directory", "a FIFO", "a character device", ... for an st_mode.
const char* file_type_name(unsigned mode);

// The largest file read_text_file (and stdin reading) accepts: 256 MiB by
// default, generous for every text file a checkpoint holds (a Qwen
// tokenizer.json is 11 MB, configs and chat templates a few KB) and for
// messages carrying base64 images. The environment variable
// QWEN3VL_MAX_FILE_MB overrides it (a positive number of MiB).
uint64_t max_text_file_bytes();
// Throws Error naming `what` when `bytes` exceeds max_text_file_bytes() (for
// files mapped rather than read, whose parse still costs their size).
void check_text_size(const std::string& what, uint64_t bytes);

// Reads a whole regular file of at most max_text_file_bytes(); throws Error
// naming the path otherwise.
std::string read_text_file(const std::string& path);

// Reads descriptor `fd` (stdin, a pipe) to its end, refusing more than
// max_text_file_bytes(); `what` names it in errors.
std::string read_descriptor(int fd, const std::string& what);

}  // namespace qwen3vl

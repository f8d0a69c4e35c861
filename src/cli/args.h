// A small command-line parser: declared options, --help text generated from
// them, clear errors for unknown options and missing or malformed values.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "qwen3vl/base/error.h"

namespace qwen3vl::cli {

// Bad command-line usage (unknown option, missing or malformed value, values
// out of range): the process exits with status 2 and points to --help.
// Everything else that fails is a runtime Error and exits with status 1.
class UsageError : public Error {
 public:
  using Error::Error;
};

class Args {
 public:
  Args(std::string command, std::string summary);

  // An option taking a value (`-m DIR`, `--model DIR`, `--model=DIR`).
  // `repeat` lets it appear several times.
  Args& value(const std::string& names, const std::string& metavar, const std::string& help, bool repeat = false);
  // A boolean flag.
  Args& flag(const std::string& names, const std::string& help);

  // Parses argv[first..]; returns false when --help was asked (help printed).
  // Throws UsageError on bad usage.
  bool parse(int argc, char** argv, int first);

  bool has(const std::string& name) const;
  std::string get(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> all(const std::string& name) const;
  // Integer and number values; UsageError for malformed or non-finite ones
  // and for values outside [min, max].
  int get_int(const std::string& name, int fallback, long long min = -2147483647LL, long long max = 2147483647LL) const;
  long long get_int64(const std::string& name, long long fallback, long long min = INT64_MIN,
                      long long max = INT64_MAX) const;
  double get_double(const std::string& name, double fallback) const;
  // Throws UsageError("<message> (see qwen3vl <command> --help)").
  [[noreturn]] void fail(const std::string& message) const;
  const std::string& command() const { return command_; }
  std::string help() const;

 private:
  struct Option {
    std::vector<std::string> names;  // "-m", "--model"
    std::string key;                 // "model"
    std::string metavar, help;
    bool takes_value = false, repeat = false;
  };
  const Option* find(const std::string& name) const;
  std::string command_, summary_;
  std::vector<Option> options_;
  std::map<std::string, std::vector<std::string>> values_;
};

}  // namespace qwen3vl::cli

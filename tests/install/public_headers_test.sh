#!/usr/bin/env bash
# Installs the public headers into an empty prefix and compiles one program
# per public header with only that prefix (and the system) on the include
# path: a public header that reaches for an uninstalled library header fails.
# Usage: public_headers_test.sh BUILD_DIR CXX
set -euo pipefail
build_dir=$1
cxx=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT

cmake --install "$build_dir" --prefix "$prefix" --component headers > "$prefix/install.log"
headers=$(cd "$prefix/include" && find qwen3vl -maxdepth 1 -name '*.h' | sort)
[ -n "$headers" ] || { echo "no public headers installed under $prefix/include/qwen3vl"; exit 1; }

status=0
for h in $headers; do
  # Each header first in its own translation unit, then used: a type from it
  # must be complete and its inline code must compile.
  cat > "$prefix/use.cpp" <<CPP
#include "$h"
#include <cstdio>
int main() { std::printf("%s\n", "$h"); return 0; }
CPP
  if "$cxx" -std=c++20 -Wall -Wextra -Werror \
       -I"$prefix/include" -c "$prefix/use.cpp" -o "$prefix/use.o" 2> "$prefix/err.txt"; then
    echo "ok: $h compiles alone against the installed headers"
  else
    echo "FAIL: $h does not compile against the installed headers:"
    cat "$prefix/err.txt"
    status=1
  fi
done

# A program that uses the API's types from the installed tree.
cat > "$prefix/program.cpp" <<'CPP'
#include "qwen3vl/qwen3vl.h"
int main() {
  qwen3vl::LoadOptions load;
  qwen3vl::SessionOptions session;
  qwen3vl::GenerateOptions generate;
  generate.max_tokens = 4;
  qwen3vl::GenerationResult result;
  return load.threads + generate.max_tokens - 4 + static_cast<int>(result.output_ids.size()) +
         (session.encoding_cache ? 1 : 0);
}
CPP
if ! "$cxx" -std=c++20 -Wall -Wextra -Werror -I"$prefix/include" -c "$prefix/program.cpp" -o "$prefix/program.o" 2> "$prefix/err.txt"; then
  echo "FAIL: a program using the API does not compile against the installed headers:"
  cat "$prefix/err.txt"
  status=1
fi
exit $status

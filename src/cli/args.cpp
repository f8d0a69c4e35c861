#include "args.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>

#include "qwen3vl/base/error.h"

namespace qwen3vl::cli {

Args::Args(std::string command, std::string summary) : command_(std::move(command)), summary_(std::move(summary)) {
  flag("-h,--help", "show this help");
}

static std::vector<std::string> split_names(const std::string& names) {
  std::vector<std::string> out;
  std::stringstream ss(names);
  std::string n;
  while (std::getline(ss, n, ',')) out.push_back(n);
  return out;
}

static std::string key_of(const std::vector<std::string>& names) {
  for (const auto& n : names)
    if (n.rfind("--", 0) == 0) return n.substr(2);
  return names.front().substr(1);
}

Args& Args::value(const std::string& names, const std::string& metavar, const std::string& help, bool repeat) {
  Option o;
  o.names = split_names(names);
  o.key = key_of(o.names);
  o.metavar = metavar;
  o.help = help;
  o.takes_value = true;
  o.repeat = repeat;
  options_.push_back(o);
  return *this;
}

Args& Args::flag(const std::string& names, const std::string& help) {
  Option o;
  o.names = split_names(names);
  o.key = key_of(o.names);
  o.help = help;
  options_.push_back(o);
  return *this;
}

const Args::Option* Args::find(const std::string& name) const {
  for (const auto& o : options_)
    for (const auto& n : o.names)
      if (n == name) return &o;
  return nullptr;
}

bool Args::parse(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    std::string inline_value;
    bool has_inline = false;
    if (a.rfind("--", 0) == 0) {
      auto eq = a.find('=');
      if (eq != std::string::npos) {
        inline_value = a.substr(eq + 1);
        a = a.substr(0, eq);
        has_inline = true;
      }
    }
    const Option* o = find(a);
    if (!o) fail("unknown option '" + a + "'");
    if (o->key == "help") {
      std::cout << help();
      return false;
    }
    if (!o->takes_value) {
      if (has_inline) fail(a + " takes no value");
      values_[o->key].push_back("1");
      continue;
    }
    std::string v;
    if (has_inline) v = inline_value;
    else if (i + 1 < argc) v = argv[++i];
    else fail(a + " needs a value (" + o->metavar + ")");
    if (!o->repeat && values_.count(o->key)) fail(a + " given twice");
    values_[o->key].push_back(v);
  }
  return true;
}

bool Args::has(const std::string& name) const { return values_.count(name) != 0; }

std::string Args::get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second.back();
}

std::vector<std::string> Args::all(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

void Args::fail(const std::string& message) const {
  throw UsageError(message + " (see qwen3vl " + command_ + " --help)");
}

long long Args::get_int64(const std::string& name, long long fallback, long long min, long long max) const {
  if (!has(name)) return fallback;
  const std::string v = get(name);
  char* end = nullptr;
  errno = 0;
  const long long r = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0) fail("--" + name + " needs an integer, got '" + v + "'");
  if (r < min || r > max) {
    // Bounds that are only the type's range are not worth stating.
    const bool no_max = max == INT64_MAX || max == INT32_MAX;
    if (no_max) fail("--" + name + " must be at least " + std::to_string(min) + ", got " + v);
    fail("--" + name + " must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + v);
  }
  return r;
}

int Args::get_int(const std::string& name, int fallback, long long min, long long max) const {
  return static_cast<int>(get_int64(name, fallback, min, max));
}

double Args::get_double(const std::string& name, double fallback) const {
  if (!has(name)) return fallback;
  const std::string v = get(name);
  char* end = nullptr;
  const double r = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !std::isfinite(r)) fail("--" + name + " needs a finite number, got '" + v + "'");
  return r;
}

std::string Args::help() const {
  std::ostringstream ss;
  ss << "usage: qwen3vl " << command_ << " [options]\n\n" << summary_ << "\n\noptions:\n";
  for (const auto& o : options_) {
    std::string left = "  ";
    for (size_t i = 0; i < o.names.size(); ++i) left += (i ? ", " : "") + o.names[i];
    if (o.takes_value) left += " " + o.metavar;
    if (left.size() < 30) left.resize(30, ' ');
    else left += "\n" + std::string(30, ' ');
    ss << left << o.help << (o.repeat ? " (repeatable)" : "") << "\n";
  }
  return ss.str();
}

}  // namespace qwen3vl::cli

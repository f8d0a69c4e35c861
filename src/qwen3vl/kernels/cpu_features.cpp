#include "qwen3vl/kernels/cpu_features.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace qwen3vl {

namespace {

#if defined(__x86_64__)
struct CpuidRegs {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
};

CpuidRegs cpuid(unsigned leaf, unsigned subleaf) {
  CpuidRegs r;
  if (!__get_cpuid_count(leaf, subleaf, &r.eax, &r.ebx, &r.ecx, &r.edx)) r = CpuidRegs{};
  return r;
}

// XGETBV is encoded by hand so this file needs no -mxsave.
unsigned long long read_xcr0() {
  unsigned eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}

bool bit(unsigned value, int index) { return (value >> index) & 1u; }

// Linux (5.16+) requires a process to ask for the AMX tile data state before
// using it; success is the only reliable sign that tile instructions won't fault.
bool request_amx_permission() {
  constexpr long kArchReqXcompPerm = 0x1023;
  constexpr long kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

CpuFeatures detect() {
  CpuFeatures f;
  const unsigned max_leaf = cpuid(0, 0).eax;
  const CpuidRegs l1 = cpuid(1, 0);
  const bool osxsave = bit(l1.ecx, 27);
  unsigned long long xcr0 = osxsave ? read_xcr0() : 0;
  // XCR0 bit 1 = SSE, 2 = AVX (YMM upper halves); 5,6,7 = opmask, ZMM0-15 upper, ZMM16-31.
  f.os_avx = osxsave && (xcr0 & 0x6) == 0x6;
  f.os_avx512 = f.os_avx && (xcr0 & 0xe0) == 0xe0;
  const bool cpu_avx = bit(l1.ecx, 28);
  f.fma = f.os_avx && cpu_avx && bit(l1.ecx, 12);
  f.f16c = f.os_avx && cpu_avx && bit(l1.ecx, 29);
  if (max_leaf >= 7) {
    const CpuidRegs l7 = cpuid(7, 0);
    const CpuidRegs l7s1 = cpuid(7, 1);
    f.bmi2 = bit(l7.ebx, 8);
    f.avx2 = f.os_avx && bit(l7.ebx, 5);
    f.avx_vnni = f.os_avx && bit(l7s1.eax, 4);
    if (f.os_avx512) {
      f.avx512f = bit(l7.ebx, 16);
      f.avx512dq = bit(l7.ebx, 17);
      f.avx512bw = bit(l7.ebx, 30);
      f.avx512vl = bit(l7.ebx, 31);
      f.avx512_vnni = bit(l7.ecx, 11);
      f.avx512_bf16 = bit(l7s1.eax, 5);
    }
    const bool cpu_amx_tile = bit(l7.edx, 24);
    // XCR0 bits 17/18: XTILECFG / XTILEDATA enabled by the OS.
    const bool os_amx = (xcr0 & (3ull << 17)) == (3ull << 17);
    if (cpu_amx_tile && os_amx && request_amx_permission()) {
      f.amx_tile = true;
      f.amx_bf16 = bit(l7.edx, 22);
      f.amx_int8 = bit(l7.edx, 25);
    }
  }
  return f;
}
#else
CpuFeatures detect() { return CpuFeatures{}; }
#endif

IsaLevel level_from_features(const CpuFeatures& f) {
  if (f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl && f.avx512_vnni && f.fma && f.f16c &&
      f.avx2 && f.bmi2)
    return IsaLevel::Avx512;
  if (f.avx2 && f.fma && f.f16c && f.bmi2) return IsaLevel::Avx2;
  return IsaLevel::Scalar;
}

IsaLevel cap_from_environment() {
  const char* text = std::getenv("QWEN3VL_ISA");
  IsaLevel level;
  if (text && parse_isa_level(text, &level)) return level;
  return IsaLevel::Avx512;
}

std::atomic<int>& cap_storage() {
  static std::atomic<int> cap{static_cast<int>(cap_from_environment())};
  return cap;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

const char* isa_level_name(IsaLevel level) {
  switch (level) {
    case IsaLevel::Scalar: return "scalar";
    case IsaLevel::Avx2: return "avx2";
    case IsaLevel::Avx512: return "avx512";
  }
  return "?";
}

bool parse_isa_level(const char* text, IsaLevel* out) {
  for (IsaLevel l : {IsaLevel::Scalar, IsaLevel::Avx2, IsaLevel::Avx512}) {
    if (std::strcmp(text, isa_level_name(l)) == 0) {
      *out = l;
      return true;
    }
  }
  return false;
}

IsaLevel detected_isa_level() {
  static const IsaLevel level = level_from_features(cpu_features());
  return level;
}

IsaLevel active_isa_level() {
  return std::min(detected_isa_level(), static_cast<IsaLevel>(cap_storage().load(std::memory_order_relaxed)));
}

IsaLevel set_isa_level_cap(IsaLevel cap) {
  return static_cast<IsaLevel>(cap_storage().exchange(static_cast<int>(cap)));
}

}  // namespace qwen3vl

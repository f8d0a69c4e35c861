// What this CPU (and its OS) lets us run, detected once with CPUID/XGETBV,
// and the instruction-set level the matmul dispatch uses. Only this file and
// the dispatchers know about ISAs; model code never does.
#pragma once

namespace qwen3vl {

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false, bmi2 = false;
  bool avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false;
  bool avx512_vnni = false, avx512_bf16 = false, avx_vnni = false;
  // AMX is reported only when CPUID lists it, XCR0 enables the tile state and
  // the kernel granted this process the tile data permission (Linux asks
  // processes to request it). We have no AMX kernels; this is informational.
  bool amx_tile = false, amx_int8 = false, amx_bf16 = false;
  // The OS saves YMM / ZMM state on context switch (XGETBV): without it the
  // instruction sets above are unusable even when CPUID lists them.
  bool os_avx = false, os_avx512 = false;
};

// Detected once, on first use.
const CpuFeatures& cpu_features();

// Kernel levels, ordered: a higher level may use everything a lower one does.
//  Scalar: portable C++.  Avx2: AVX2+FMA+F16C(+BMI2).  Avx512: F/BW/DQ/VL + VNNI.
enum class IsaLevel { Scalar = 0, Avx2 = 1, Avx512 = 2 };

const char* isa_level_name(IsaLevel level);

// The best level this machine supports.
IsaLevel detected_isa_level();

// The level kernels use: the detected one, capped by the environment
// variable QWEN3VL_ISA=scalar|avx2|avx512 (read once) or by set_isa_level_cap.
IsaLevel active_isa_level();

// Caps the level for the whole process (tests and benchmarks compare kernels
// this way). A cap above what the CPU supports has no effect. Returns the
// previous cap.
IsaLevel set_isa_level_cap(IsaLevel cap);

// Parses "scalar" / "avx2" / "avx512"; returns false for anything else.
bool parse_isa_level(const char* text, IsaLevel* out);

// The kernel table of `isa` among per-ISA tables (each ISA file exports a
// getter), null for Scalar (the portable loops). Only the getter of the
// level asked for is called: a file compiled for AVX-512 may use AVX-512
// instructions even to build its table.
template <class Table>
const Table* kernels_for_isa(IsaLevel isa, const Table& (*avx2)(), const Table& (*avx512)()) {
  switch (isa) {
    case IsaLevel::Avx512: return &avx512();
    case IsaLevel::Avx2: return &avx2();
    case IsaLevel::Scalar: return nullptr;
  }
  return nullptr;
}

}  // namespace qwen3vl

// internal.h: the pieces of the libcuda.so.1 stand-in that talk to each other inside the library:
// cuda.cpp (the driver API, the allocation registry, streams), checks.cpp (the per-access bounds and
// race checks behind the compiler's instrumentation) and kernels.cpp (the g++ build of
// kernels/vae_kernels.cu with one "twin" per PTX entry). Nothing here is exported.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace standin {

// Red zone on each side of every allocation: writes into it are caught by the access checks and,
// for code that is not instrumented (the CPU BLAS behind cuBLAS), by the pattern check at sync.
constexpr size_t RED_ZONE = 256;
constexpr unsigned char RED_BYTE = 0xCD;

// A live allocation: device memory (cuMemAlloc) or page-locked host memory (cuMemAllocHost).
// raw = base - RED_ZONE; raw_bytes = RED_ZONE + round_up(bytes, 256) + RED_ZONE.
struct Alloc {
    uintptr_t base = 0;
    size_t bytes = 0;
    unsigned char* raw = nullptr;
    size_t raw_bytes = 0;
    uint64_t* shadow = nullptr;  // one word per 4 bytes of [base, base + bytes), calloc'ed on first kernel access
    bool host = false;           // page-locked host memory: kernels and async copies may use it
    uint64_t serial = 0;         // allocation number, for messages
};

// The allocation whose raw range (red zones included) holds addr, or nullptr. Caller holds the lock.
Alloc* find_alloc(uintptr_t addr);

// ---- kernels.cpp: the g++ twins of the PTX entries ----
using ArgBytes = std::vector<std::vector<unsigned char>>;  // one entry per kernel parameter, as launched

struct Twin {
    std::string name;
    std::vector<std::string> ptx;  // PTX .param type of each parameter: u64, u32, f32
    std::vector<bool> pointer;     // the C++ parameter is a pointer (checked), not a u64 value
    // runs the whole grid (block order shuffled by `seed`) on the calling thread
    void (*run)(const ArgBytes& args, unsigned grid, unsigned block, uint64_t seed);
};

const Twin* find_twin(const std::string& name);

// ---- checks.cpp: per-launch bounds and race checks ----
// Between begin_launch and end_launch the instrumented kernel code reports every load and store;
// kernels.cpp calls enter_thread(tid) before and leave_thread() after each emulated thread.
void begin_launch(const std::string& kernel, bool checks);
// Host memory the kernels may read that is not device memory: the launch coordinates
// (threadIdx, blockIdx, blockDim, gridDim) that host_cuda.h keeps in globals.
void not_device_memory(const void* p, size_t bytes);
void enter_thread(uint32_t block, uint32_t thread, uint32_t tid);
void leave_thread();

struct Findings {
    uint64_t races = 0, out_of_bounds = 0;
    std::string first;  // the first finding, fit to print
};
Findings end_launch();

}  // namespace standin

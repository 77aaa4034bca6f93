// internal.h: the pieces of the libcuda.so.1 stand-in that talk to each other inside the library:
// cuda.cpp (the driver API: contexts, the allocation registry, synchronous copies, modules,
// launches), streams.cpp (streams and their queues, events, async copies, stream capture, graphs),
// checks.cpp (the per-access bounds and race checks behind the compiler's instrumentation) and
// kernels.cpp (the g++ build of kernels/vae_kernels.cu with one "twin" per PTX entry). Nothing here
// is exported.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace standin {

// ---- cuda.cpp: state shared by the driver's pieces (all behind lock_) ----

struct Stream;

struct Ctx {
    int device = 0;
    int refs = 0;
    int sticky = 0;             // a fault poisons the context until it is destroyed (SI_SUCCESS = 0)
    Stream* legacy = nullptr;   // the legacy default stream (handle 0, CU_STREAM_LEGACY, CU_STREAM_PER_THREAD)
};

extern std::recursive_mutex& lock_;
using Guard = std::lock_guard<std::recursive_mutex>;
extern thread_local Ctx* current;
extern std::vector<std::unique_ptr<Ctx>>& primary;  // one per device, created at cuInit

void count(const std::string& k, long long d = 1);
void say(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
int status();                   // what a call that needs a context returns now
void fault(Ctx* c, int code);   // sets the context's sticky error (the first one stays)
bool should_fail(const char* fn);
void write_counters();
// Checks [p, p + bytes) against a live allocation (device_only: not page-locked host memory);
// else says so, faults the current context with ILLEGAL_ADDRESS and returns it.
int check_range(uintptr_t p, size_t bytes, const char* what, bool device_only);
// At run time: [p, p + bytes) still lies in a live allocation of this kind (work queued or replayed
// from a graph may outlive a free); else says so and faults ctx. bytes == 0 is always fine.
bool still_live(Ctx* ctx, uintptr_t p, size_t bytes, bool host, const char* what);
// Red zones intact in every allocation (the pattern check at every synchronisation point).
void check_redzones();

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

// ---- streams.cpp: streams, events, capture, graphs ----

Stream* new_legacy_stream(Ctx* ctx);
// The stream a handle names for the current context: 0, CU_STREAM_LEGACY (1) and
// CU_STREAM_PER_THREAD (2) are the legacy stream; else a live stream created in this context.
// SI_ERROR_INVALID_HANDLE otherwise.
int resolve_stream(void* handle, Stream** out);
// Issues work to a stream: recorded into its capture when it captures (kernel: a cuLaunchKernel,
// counted as captured_launches), else queued. Work on the legacy stream while a blocking stream of
// the context captures is CUDA_ERROR_STREAM_CAPTURE_IMPLICIT and invalidates that capture.
int issue(Stream* s, const char* what, std::function<void()> fn, bool kernel = false);
bool capturing(const Stream* s);
// A "potentially unsafe" call (cuMemAlloc, cuMemFree, synchronous copies, synchronisations, queries)
// while a capture prohibits it for this thread: invalidates that capture, says so and returns
// CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED; else SI_SUCCESS.
int capture_unsafe(const char* fn);
// Legacy-stream work while a blocking stream of ctx captures: invalidates, returns 906; else 0.
int legacy_implicit(Ctx* ctx, const char* fn);
void run_all();             // every queue of every context (cuCtxSynchronize, cuMemFree): then checks red zones
void run_legacy(Ctx* ctx);  // what a legacy-stream sync waits for: the legacy queue and the blocking streams' queues
void drop_streams(Ctx* ctx);  // context destroyed: its queues dropped, its streams, events, graphs freed
void stream_counters(std::map<std::string, long long>& all);  // live_streams, live_events, ...

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

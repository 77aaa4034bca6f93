// checks.cpp: what the stand-in checks on every load and store a kernel makes.
//
// kernels.cpp is compiled with -fsanitize=thread, so g++ puts a call to __tsan_readN(addr) or
// __tsan_writeN(addr) before each memory access of the kernel code; this file defines those hooks
// (no ThreadSanitizer runtime is linked). While an emulated GPU thread runs, each access is
//  - classified: inside a live allocation (fine), in its red zone or in no allocation at all
//    (out of bounds: a card would fault with CUDA_ERROR_ILLEGAL_ADDRESS), or on the host thread's
//    own stack (the kernel's local variables, not device memory: ignored);
//  - recorded per 4-byte word in the allocation's shadow: the first emulated thread that touched
//    the word in this launch and whether it wrote. Two different threads touching a word, one of
//    them writing, is a data race: the result would depend on the order a card runs them in.
// The kernels of this project never need atomics or barriers, so there is nothing to exempt.
#include "internal.h"

#include <pthread.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

namespace standin {
namespace {

struct LaunchState {
    bool active = false;      // an emulated thread is running
    bool checks = true;       // JVAE_STANDIN_CHECKS != 0
    uint32_t serial = 0;      // launch number (shadow entries of older launches are stale)
    uint32_t block = 0, thread = 0, tid = 0;
    std::string kernel;
    Alloc* last = nullptr;    // the allocation of the previous access (most accesses repeat it)
    uintptr_t stack_lo = 0, stack_hi = 0;
    pthread_t owner{};        // the thread running the launch (begin_launch)
    std::vector<std::pair<uintptr_t, uintptr_t>> exempt;  // not_device_memory ranges
    Findings found;
};

// kernels run on one host thread at a time (the driver lock is held during a flush); never destroyed
// (cuda.cpp says why): a launch may still run while an exiting process destroys its statics
// (a reference: until checks.o's initializer has run it is unusable, so no dynamic initializer of
// another file may launch or make instrumented accesses; kernels.cpp has none)
LaunchState& st = *new LaunchState;

void stack_bounds(uintptr_t& lo, uintptr_t& hi) {
    pthread_attr_t a;
    void* addr = nullptr;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        pthread_attr_getstack(&a, &addr, &size);
        pthread_attr_destroy(&a);
    }
    lo = (uintptr_t)addr;
    hi = lo + size;
}

void report(const char* kind, uintptr_t addr, size_t n, bool write, const Alloc* a) {
    char msg[512];
    if (a && addr < a->base)
        snprintf(msg, sizeof msg, "%s: thread %u of block %u %s %zu bytes at 0x%" PRIxPTR ", %" PRIuPTR
                 " bytes before allocation #%" PRIu64 " (0x%" PRIxPTR ", %zu bytes)", st.kernel.c_str(), st.thread, st.block,
                 write ? "wrote" : "read", n, addr, a->base - addr, a->serial, a->base, a->bytes);
    else if (a && addr >= a->base + a->bytes)
        snprintf(msg, sizeof msg, "%s: thread %u of block %u %s %zu bytes at 0x%" PRIxPTR ", %" PRIuPTR
                 " bytes past the end of allocation #%" PRIu64 " (0x%" PRIxPTR ", %zu bytes)", st.kernel.c_str(), st.thread, st.block,
                 write ? "wrote" : "read", n, addr, addr - (a->base + a->bytes), a->serial, a->base, a->bytes);
    else if (a)
        snprintf(msg, sizeof msg, "%s: %s on the word at 0x%" PRIxPTR " (allocation #%" PRIu64 ", byte %" PRIuPTR
                 "): thread %u of block %u %s it in the same launch as another thread", st.kernel.c_str(), kind, addr, a->serial,
                 addr - a->base, st.thread, st.block, write ? "wrote" : "read");
    else
        snprintf(msg, sizeof msg, "%s: thread %u of block %u %s %zu bytes at 0x%" PRIxPTR ", outside every device allocation",
                 st.kernel.c_str(), st.thread, st.block, write ? "wrote" : "read", n, addr);
    if (st.found.first.empty()) st.found.first = msg;
}

// Shadow word: launch serial (32 bits) | tid (30 bits) | state (2 bits: 1 read, 2 written, 3 read by several).
void touch(Alloc* a, uintptr_t addr, bool write) {
    size_t w = (addr - a->base) >> 2;
    if (!a->shadow) {
        a->shadow = (uint64_t*)calloc((a->bytes + 3) / 4, sizeof(uint64_t));  // pages appear as touched
        if (!a->shadow) { fprintf(stderr, "cuda stand-in: no memory for the race-check shadow\n"); abort(); }
    }
    uint64_t e = a->shadow[w];
    uint64_t mine = (uint64_t)st.serial << 32 | (uint64_t)(st.tid & 0x3fffffffu) << 2;
    if ((uint32_t)(e >> 32) != st.serial) { a->shadow[w] = mine | (write ? 2 : 1); return; }
    uint32_t owner = (uint32_t)(e >> 2) & 0x3fffffffu, state = (uint32_t)(e & 3);
    bool race;
    if (state == 3) race = write;
    else if (owner == (st.tid & 0x3fffffffu)) { race = false; if (write) a->shadow[w] = mine | 2; }
    else if (write || state == 2) race = true;
    else { race = false; a->shadow[w] = mine | 3; }
    if (race) {
        st.found.races++;
        report("data race", addr, 4, write, a);
    }
}

inline void access(void* p, size_t n, bool write) {
    // only the thread running the launch: at exit, another thread runs the static destructors while
    // a launch may still run, and were it instrumented code (kernels.cpp's), its accesses must not
    // count as the kernel's (pthread_self is a register read, not a TLS lookup)
    if (!st.active || !st.checks || !pthread_equal(pthread_self(), st.owner)) return;
    uintptr_t addr = (uintptr_t)p;
    if (addr >= st.stack_lo && addr < st.stack_hi) return;  // the kernel's own locals
    for (auto& [lo, hi] : st.exempt)
        if (addr >= lo && addr < hi) return;  // the launch coordinates
    Alloc* a = st.last;
    if (!a || addr < a->base || addr + n > a->base + a->bytes) {
        a = find_alloc(addr);
        if (!a || addr < a->base || addr + n > a->base + a->bytes) {
            st.found.out_of_bounds++;
            report("out of bounds", addr, n, write, a);
            return;
        }
        st.last = a;
    }
    for (uintptr_t w = addr & ~(uintptr_t)3; w < addr + n; w += 4) touch(a, w, write);
}

}  // namespace

void begin_launch(const std::string& kernel, bool checks) {
    st.owner = pthread_self();
    st.serial++;
    st.kernel = kernel;
    st.checks = checks;
    st.last = nullptr;
    st.found = Findings{};
    stack_bounds(st.stack_lo, st.stack_hi);
}

void not_device_memory(const void* p, size_t bytes) {
    uintptr_t lo = (uintptr_t)p;
    for (auto& r : st.exempt)
        if (r.first == lo) return;
    st.exempt.push_back({lo, lo + bytes});
}

void enter_thread(uint32_t block, uint32_t thread, uint32_t tid) {
    st.block = block;
    st.thread = thread;
    st.tid = tid;
    st.active = true;
}

void leave_thread() { st.active = false; }

Findings end_launch() {
    st.active = false;
    st.last = nullptr;
    return st.found;
}

}  // namespace standin

// ---- the hooks g++ -fsanitize=thread calls (signatures of the ThreadSanitizer ABI) ----
#define SI_HOOK extern "C" __attribute__((visibility("hidden")))
SI_HOOK void __tsan_init() {}
SI_HOOK void __tsan_func_entry(void*) {}
SI_HOOK void __tsan_func_exit() {}
#define SI_RW(n)                                                                           \
    SI_HOOK void __tsan_read##n(void* p) { standin::access(p, n, false); }                 \
    SI_HOOK void __tsan_write##n(void* p) { standin::access(p, n, true); }                 \
    SI_HOOK void __tsan_unaligned_read##n(void* p) { standin::access(p, n, false); }       \
    SI_HOOK void __tsan_unaligned_write##n(void* p) { standin::access(p, n, true); }
SI_RW(1)
SI_RW(2)
SI_RW(4)
SI_RW(8)
SI_RW(16)
SI_HOOK void __tsan_read_range(void* p, unsigned long n) { standin::access(p, n, false); }
SI_HOOK void __tsan_write_range(void* p, unsigned long n) { standin::access(p, n, true); }
SI_HOOK void __tsan_vptr_update(void**, void*) {}
SI_HOOK void __tsan_vptr_read(void**) {}
// the thread-safe initialisation of a function-local static (kernels.cpp's twin table) reads its guard byte atomically
SI_HOOK char __tsan_atomic8_load(const volatile char* a, int) { return *a; }

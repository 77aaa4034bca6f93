// cuda.cpp: a CPU stand-in for NVIDIA's libcuda.so.1 (the CUDA driver API), for running
// io.jvae.backend.cuda.CudaBackend -- unchanged, through JCuda's JNI library -- on machines
// without a GPU. It is not a GPU simulator: it proves the adapter (every argument, pointer, size,
// lifetime and ordering rule the driver enforces), not speed or CUDA's own rounding.
//
//  - Device memory is host memory with red zones, kept in a registry. Every pointer handed to a
//    copy, a memset, cuBLAS or a kernel is checked against a live allocation; a bad one is
//    CUDA_ERROR_ILLEGAL_ADDRESS, sticky for the context as on a card. Freeing an offset pointer is
//    an error. New allocations are filled with 0xFF bytes (NaN), not zeros, like fresh device memory.
//  - A per-thread current context, as the driver has. Primary contexts are reference counted.
//  - cuModuleLoadData parses the PTX and refuses an ISA newer than the configured driver supports
//    or a .target above the configured card; cuModuleGetFunction checks the C++ twin's signature
//    against the PTX .entry.
//  - Work on a stream is queued, one queue per stream, and runs at the next synchronisation point
//    that waits for it (streams.cpp: a synchronous copy runs the legacy stream and the blocking
//    streams, not a non-blocking one), in issue order per stream, so code that reads results
//    without synchronising reads stale data here as it would on a card. Events, async copies,
//    stream capture and graphs, with the driver's capture rules, are in streams.cpp. Kernels run
//    their whole grid, blocks shuffled, with per-access bounds and race checks (checks.cpp).
//  - Counters (launches, synchronisations, bytes each way, allocations, streams, events, captures,
//    graphs and what is still live; docs/gpu.md lists them) go to the JSON file named
//    by JVAE_STANDIN_COUNTERS, rewritten at every cuCtxSynchronize, cuStreamSynchronize, context release, module unload
//    and at exit.
//
// Configuration (environment, read at cuInit):
//   JVAE_STANDIN_DEVICES  number of devices (default 1; 0 = a driver without devices)
//   JVAE_STANDIN_CC       compute capability, e.g. 8.0 (default), 7.0, 5.2
//   JVAE_STANDIN_MEMORY   device memory, bytes or with K/M/G (default 8G)
//   JVAE_STANDIN_DRIVER   driver version, e.g. 12.6 or 12060 (default 12.6): caps the PTX ISA
//   JVAE_STANDIN_COUNTERS the counters file (%p in it: the process id), rewritten at every context or stream synchronisation
//   JVAE_STANDIN_SMS      multiprocessor count (default 2: small grids, many grid-stride rounds)
//   JVAE_STANDIN_CHECKS   0 turns the per-access bounds/race checks off (faster)
//   JVAE_STANDIN_FAIL     failure injection: fn[:n],... makes the n-th call of fn fail
//   JVAE_STANDIN_CORRUPT  kernel name: after each run of it, add 1 to the first float of its last
//                         pointer argument, an output (a card that computes wrong, for --device auto's check)
#include "internal.h"
#include "standin.h"

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include <unistd.h>

#define SI_API extern "C" __attribute__((visibility("default")))

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;

namespace standin {

// ---- configuration ----

struct Config {
    int devices = 1, cc_major = 8, cc_minor = 0, driver = 12060, sms = 2;
    size_t memory = size_t(8) << 30;
    bool checks = true;
    std::string corrupt;
};

size_t parse_size(const char* s, size_t dflt) {
    if (!s || !*s) return dflt;
    char* end = nullptr;
    double v = strtod(s, &end);
    switch (end && *end ? *end : ' ') {
        case 'K': case 'k': v *= 1024.0; break;
        case 'M': case 'm': v *= 1024.0 * 1024; break;
        case 'G': case 'g': v *= 1024.0 * 1024 * 1024; break;
        default: break;
    }
    return v > 0 ? (size_t)v : dflt;
}

Config read_config() {
    Config c;
    if (const char* s = getenv("JVAE_STANDIN_DEVICES")) c.devices = atoi(s);
    if (const char* s = getenv("JVAE_STANDIN_CC")) sscanf(s, "%d.%d", &c.cc_major, &c.cc_minor);
    c.memory = parse_size(getenv("JVAE_STANDIN_MEMORY"), c.memory);
    if (const char* s = getenv("JVAE_STANDIN_DRIVER")) {
        int maj = 0, min = 0;
        if (strchr(s, '.') && sscanf(s, "%d.%d", &maj, &min) == 2) c.driver = maj * 1000 + min * 10;
        else c.driver = atoi(s);
    }
    if (const char* s = getenv("JVAE_STANDIN_SMS")) c.sms = std::max(1, atoi(s));
    if (const char* s = getenv("JVAE_STANDIN_CHECKS")) c.checks = strcmp(s, "0") != 0;
    if (const char* s = getenv("JVAE_STANDIN_CORRUPT")) c.corrupt = s;
    return c;
}

// Highest PTX ISA (major*10 + minor) a driver of this CUDA version JITs (PTX ISA release notes).
int max_ptx_isa(int driver) {
    static const int table[][2] = {{10000, 63}, {10010, 64}, {10020, 65}, {11000, 70}, {11010, 71}, {11020, 72},
                                   {11030, 73}, {11040, 74}, {11050, 75}, {11060, 76}, {11070, 77}, {11080, 78},
                                   {12000, 80}, {12010, 81}, {12020, 82}, {12030, 83}, {12040, 84}, {12050, 85},
                                   {12060, 85}, {12070, 86}, {12080, 87}, {12090, 88}, {13000, 90}};
    int isa = 0;
    for (auto& r : table)
        if (driver >= r[0]) isa = r[1];
    return isa;
}

// ---- state (all behind one lock) ----

struct Module {
    Ctx* ctx = nullptr;
    struct Entry { std::vector<std::string> params; };
    std::map<std::string, Entry> entries;
};

struct Func {
    Module* module = nullptr;
    const Twin* twin = nullptr;
    std::string name;
    std::vector<size_t> sizes;  // bytes of each parameter
};

// Never destroyed (as streams.cpp's and checks.cpp's state): a process that exits on a signal runs
// the static destructors on one thread while another may still be inside a launch or a BLAS call.
// Torn down under it, the allocation table made a running kernel's accesses look out of bounds
// (reports with a garbage "first:" text) and a later call use freed memory.
std::recursive_mutex& lock_ = *new std::recursive_mutex;
bool initialized = false;
Config& cfg = *new Config;
std::vector<std::unique_ptr<Ctx>>& primary = *new std::vector<std::unique_ptr<Ctx>>;  // one per device, created at cuInit
std::map<uintptr_t, Alloc>& allocs = *new std::map<uintptr_t, Alloc>;                 // by raw address
std::set<Module*>& modules = *new std::set<Module*>;
std::set<Func*>& funcs = *new std::set<Func*>;
std::map<std::string, long long>& counters = *new std::map<std::string, long long>;
std::map<std::string, long long>& fail_calls = *new std::map<std::string, long long>;
size_t live_bytes = 0, peak_bytes = 0;
uint64_t alloc_serial = 0, launch_seed = 1;
thread_local Ctx* current = nullptr;

void count(const std::string& k, long long d) { counters[k] += d; }

void write_counters() {
    const char* spec = getenv("JVAE_STANDIN_COUNTERS");
    if (!spec || !*spec) return;
    std::string path = spec;  // %p: this process's id, so that concurrent processes keep apart
    for (size_t at; (at = path.find("%p")) != std::string::npos;) path.replace(at, 2, std::to_string(getpid()));
    std::string tmp = path + ".tmp";
    FILE* f = fopen(tmp.c_str(), "w");
    if (!f) return;
    std::map<std::string, long long> all = counters;
    long long device = 0, host = 0;
    for (auto& [raw, a] : allocs) (a.host ? host : device) += 1;
    all["live_allocations"] = device;
    all["live_host_allocations"] = host;
    all["live_bytes"] = (long long)live_bytes;
    all["peak_bytes"] = (long long)peak_bytes;
    stream_counters(all);
    fprintf(f, "{");
    const char* sep = "";
    for (auto& [k, v] : all) { fprintf(f, "%s\n  \"%s\": %lld", sep, k.c_str(), v); sep = ","; }
    fprintf(f, "\n}\n");
    fclose(f);
    rename(tmp.c_str(), path.c_str());
}

// At exit, the counters once more. A process ended by a signal may exit while another thread is
// inside a call and keeps taking the lock (a training's steps): waiting for the lock there kept a
// SIGTERM'd bench alive until its last step. Wait 200 ms at most, then leave the file as the last
// synchronisation wrote it.
struct AtExit {
    ~AtExit() {
        const char* spec = getenv("JVAE_STANDIN_COUNTERS");
        if (!spec || !*spec) return;  // no counters file to write
        for (int i = 0; i < 200; i++) {
            if (lock_.try_lock()) {
                write_counters();
                lock_.unlock();
                return;
            }
            usleep(1000);
        }
        fprintf(stderr, "standin: exit while another thread was inside a call: the counters file keeps its last contents\n");
    }
} at_exit;

void say(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "cuda stand-in: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

bool ctx_alive(Ctx* c) {
    for (auto& p : primary)
        if (p.get() == c && p->refs > 0) return true;
    return false;
}

// The status a call that needs a context returns now.
int status() {
    if (!initialized) return SI_ERROR_NOT_INITIALIZED;
    if (!current || !ctx_alive(current)) return SI_ERROR_INVALID_CONTEXT;
    return current->sticky;
}

void fault(Ctx* c, int code) {
    if (c && c->sticky == SI_SUCCESS) c->sticky = code;
}

bool redzones_intact(const Alloc& a) {
    const unsigned char* lo = a.raw;
    const unsigned char* hi = (const unsigned char*)a.base + a.bytes;
    const unsigned char* end = a.raw + a.raw_bytes;
    for (const unsigned char* p = lo; p < (const unsigned char*)a.base; p++)
        if (*p != RED_BYTE) return false;
    for (const unsigned char* p = hi; p < end; p++)
        if (*p != RED_BYTE) return false;
    return true;
}

// Every allocation's red zones still hold the pattern; a write into one (by code the access checks
// do not see: the CPU BLAS, a copy) is a fault of every context.
void check_redzones() {
    for (auto& [raw, a] : allocs)
        if (!redzones_intact(a)) {
            say("the red zone of allocation #%" PRIu64 " (0x%" PRIxPTR ", %zu bytes) was overwritten (by cuBLAS or a copy)",
                a.serial, a.base, a.bytes);
            memset(a.raw, RED_BYTE, a.base - (uintptr_t)a.raw);
            memset((unsigned char*)a.base + a.bytes, RED_BYTE, a.raw + a.raw_bytes - ((unsigned char*)a.base + a.bytes));
            for (auto& p : primary) fault(p.get(), SI_ERROR_ILLEGAL_ADDRESS);
            count("out_of_bounds");
        }
}

// A call that makes the host wait for the device: for all work (cuCtxSynchronize, cuMemFree) or
// for what a legacy-stream synchronisation waits for (a synchronous copy).
void host_sync(const char* kind) {
    count("host_syncs");
    count(kind);
    run_all();
}

void host_sync_legacy(const char* kind) {
    count("host_syncs");
    count(kind);
    run_legacy(current);
}

int check_range(uintptr_t p, size_t bytes, const char* what, bool device_only) {
    if (bytes == 0) return SI_SUCCESS;
    Alloc* a = find_alloc(p);
    if (a && p >= a->base && p + bytes <= a->base + a->bytes && (!device_only || !a->host)) return SI_SUCCESS;
    if (!a)
        say("%s: [0x%" PRIxPTR ", +%zu bytes) is not in any live allocation", what, p, bytes);
    else if (device_only && a->host)
        say("%s: 0x%" PRIxPTR " is page-locked host memory, not device memory", what, p);
    else
        say("%s: [0x%" PRIxPTR ", +%zu bytes) runs outside allocation #%" PRIu64 " [0x%" PRIxPTR ", +%zu bytes)", what, p, bytes,
            a->serial, a->base, a->bytes);
    count("out_of_bounds");
    fault(current, SI_ERROR_ILLEGAL_ADDRESS);
    return SI_ERROR_ILLEGAL_ADDRESS;
}

bool should_fail(const char* fn) {
    const char* spec = getenv("JVAE_STANDIN_FAIL");
    if (!spec || !*spec) return false;
    long long n = ++fail_calls[fn];
    std::string s = spec;
    size_t pos = 0;
    while (pos <= s.size()) {
        size_t end = s.find(',', pos);
        std::string item = s.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        size_t colon = item.find(':');
        std::string name = item.substr(0, colon);
        long long nth = colon == std::string::npos ? 1 : atoll(item.c_str() + colon + 1);
        if (name == fn && nth == n) {
            say("%s: failing call %lld as JVAE_STANDIN_FAIL asks", fn, n);
            count("injected_failures");
            return true;
        }
        if (end == std::string::npos) break;
        pos = end + 1;
    }
    return false;
}

bool still_live(Ctx* ctx, uintptr_t p, size_t bytes, bool host, const char* what) {
    if (bytes == 0) return true;
    Alloc* a = find_alloc(p);
    if (a && a->host == host && p >= a->base && p + bytes <= a->base + a->bytes) return true;
    say("%s: [0x%" PRIxPTR ", +%zu bytes) is no live %s allocation when the work runs (freed before a graph replay?)", what, p,
        bytes, host ? "page-locked host" : "device");
    count("out_of_bounds");
    fault(ctx, SI_ERROR_ILLEGAL_ADDRESS);
    return false;
}

}  // namespace standin

using namespace standin;

standin::Alloc* standin::find_alloc(uintptr_t addr) {
    auto it = allocs.upper_bound(addr);
    if (it == allocs.begin()) return nullptr;
    --it;
    Alloc& a = it->second;
    return addr < (uintptr_t)a.raw + a.raw_bytes ? &a : nullptr;
}

// ---- the interface for the cuBLAS stand-in (standin.h) ----

SI_API int jvae_standin_context_status(void) { Guard g(lock_); return status(); }
SI_API int jvae_standin_check_range(const void* p, size_t bytes, const char* what) {
    Guard g(lock_);
    return check_range((uintptr_t)p, bytes, what, true);
}
SI_API void jvae_standin_count(const char* name, long long delta) { Guard g(lock_); count(name, delta); }
SI_API int jvae_standin_should_fail(const char* function) { Guard g(lock_); return should_fail(function); }
SI_API int jvae_standin_unsupported(const char* function) {
    Guard g(lock_);
    if (counters[std::string("unsupported:") + function]++ == 0)
        say("%s is not implemented by the stand-in (docs/gpu.md lists what is)", function);
    return SI_ERROR_NOT_SUPPORTED;
}
__attribute__((visibility("default"))) int jvae_standin_enqueue(void* stream, const char* what, std::function<void()> work) {
    Guard g(lock_);
    int s = status();
    if (s != SI_SUCCESS) return s;
    Stream* st = nullptr;
    if (resolve_stream(stream, &st)) {
        say("%s: stream %p is not a live stream of the current context", what, stream);
        return SI_ERROR_INVALID_HANDLE;
    }
    return issue(st, what, std::move(work));
}

#define INJECT(fn, code) \
    if (should_fail(fn)) return code

// ---- initialisation and devices ----

SI_API CUresult cuDriverGetVersion(int* v) {
    Guard g(lock_);
    if (!v) return SI_ERROR_INVALID_VALUE;
    *v = initialized ? cfg.driver : read_config().driver;
    return SI_SUCCESS;
}

SI_API CUresult cuInit(unsigned flags) {
    Guard g(lock_);
    INJECT("cuInit", SI_ERROR_NO_DEVICE);
    if (flags != 0) return SI_ERROR_INVALID_VALUE;
    if (!initialized) {
        cfg = read_config();
        if (cfg.devices <= 0) return SI_ERROR_NO_DEVICE;
        for (int d = 0; d < cfg.devices; d++) {
            primary.push_back(std::make_unique<Ctx>());
            primary.back()->device = d;
            primary.back()->legacy = new_legacy_stream(primary.back().get());
        }
        initialized = true;
    }
    return SI_SUCCESS;
}

SI_API CUresult cuDeviceGetCount(int* n) {
    Guard g(lock_);
    if (!initialized) return SI_ERROR_NOT_INITIALIZED;
    if (!n) return SI_ERROR_INVALID_VALUE;
    *n = cfg.devices;
    return SI_SUCCESS;
}

static CUresult valid_device(CUdevice d) {
    if (!initialized) return SI_ERROR_NOT_INITIALIZED;
    return d >= 0 && d < cfg.devices ? SI_SUCCESS : SI_ERROR_INVALID_DEVICE;
}

SI_API CUresult cuDeviceGet(CUdevice* d, int ordinal) {
    Guard g(lock_);
    if (!initialized) return SI_ERROR_NOT_INITIALIZED;
    if (!d) return SI_ERROR_INVALID_VALUE;
    if (ordinal < 0 || ordinal >= cfg.devices) return SI_ERROR_INVALID_DEVICE;
    *d = ordinal;
    return SI_SUCCESS;
}

SI_API CUresult cuDeviceGetName(char* name, int len, CUdevice d) {
    Guard g(lock_);
    if (int s = valid_device(d)) return s;
    if (!name || len <= 0) return SI_ERROR_INVALID_VALUE;
    snprintf(name, (size_t)len, "CPU stand-in for sm_%d%d (jvae kernels/standin, not a GPU)", cfg.cc_major, cfg.cc_minor);
    return SI_SUCCESS;
}

SI_API CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice d) {
    Guard g(lock_);
    if (int s = valid_device(d)) return s;
    if (!bytes) return SI_ERROR_INVALID_VALUE;
    *bytes = cfg.memory;
    return SI_SUCCESS;
}

SI_API CUresult cuDeviceGetAttribute(int* v, int attr, CUdevice d) {
    Guard g(lock_);
    if (int s = valid_device(d)) return s;
    if (!v || attr <= 0 || attr > 140) return SI_ERROR_INVALID_VALUE;
    switch (attr) {
        case 1: *v = 1024; break;                    // MAX_THREADS_PER_BLOCK
        case 2: case 3: *v = 1024; break;            // MAX_BLOCK_DIM_X/Y
        case 4: *v = 64; break;                      // MAX_BLOCK_DIM_Z
        case 5: *v = 2147483647; break;              // MAX_GRID_DIM_X
        case 6: case 7: *v = 65535; break;           // MAX_GRID_DIM_Y/Z
        case 8: *v = 49152; break;                   // MAX_SHARED_MEMORY_PER_BLOCK
        case 10: *v = 32; break;                     // WARP_SIZE
        case 16: *v = cfg.sms; break;                // MULTIPROCESSOR_COUNT
        case 19: case 41: *v = 1; break;             // CAN_MAP_HOST_MEMORY, UNIFIED_ADDRESSING
        case 39: *v = 2048; break;                   // MAX_THREADS_PER_MULTIPROCESSOR
        case 75: *v = cfg.cc_major; break;           // COMPUTE_CAPABILITY_MAJOR
        case 76: *v = cfg.cc_minor; break;           // COMPUTE_CAPABILITY_MINOR
        default: *v = 0;
    }
    return SI_SUCCESS;
}

// ---- contexts ----

SI_API CUresult cuDevicePrimaryCtxRetain(Ctx** out, CUdevice d) {
    Guard g(lock_);
    if (int s = valid_device(d)) return s;
    INJECT("cuDevicePrimaryCtxRetain", SI_ERROR_OUT_OF_MEMORY);
    if (!out) return SI_ERROR_INVALID_VALUE;
    Ctx* c = primary[(size_t)d].get();
    if (c->refs++ == 0) c->sticky = SI_SUCCESS;
    count("ctx_retain");
    *out = c;
    return SI_SUCCESS;
}

SI_API CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) {
    Guard g(lock_);
    if (int s = valid_device(d)) return s;
    Ctx* c = primary[(size_t)d].get();
    if (c->refs == 0) return SI_ERROR_INVALID_CONTEXT;
    count("ctx_release");
    if (--c->refs == 0) {  // destroyed: its memory and modules go with it
        if (c->sticky == SI_SUCCESS) run_all();
        drop_streams(c);  // its queues, streams, events and graphs
        long long leaked = 0;
        for (auto it = allocs.begin(); it != allocs.end();) {
            leaked++;
            live_bytes -= it->second.bytes;
            free(it->second.shadow);
            free(it->second.raw);
            it = allocs.erase(it);
        }
        if (leaked) count("freed_by_context_destroy", leaked);
        for (Module* m : modules) delete m;
        modules.clear();
        for (Func* f : funcs) delete f;
        funcs.clear();
    }
    write_counters();
    return SI_SUCCESS;
}

SI_API CUresult cuCtxSetCurrent(Ctx* c) {
    Guard g(lock_);
    if (!initialized) return SI_ERROR_NOT_INITIALIZED;
    if (c && !ctx_alive(c)) return SI_ERROR_INVALID_CONTEXT;
    current = c;
    return SI_SUCCESS;
}

SI_API CUresult cuCtxGetCurrent(Ctx** c) {
    Guard g(lock_);
    if (!initialized) return SI_ERROR_NOT_INITIALIZED;
    if (!c) return SI_ERROR_INVALID_VALUE;
    *c = current;
    return SI_SUCCESS;
}

SI_API CUresult cuCtxGetDevice(CUdevice* d) {
    Guard g(lock_);
    if (int s = status(); s != SI_SUCCESS && s != SI_ERROR_ILLEGAL_ADDRESS) return s;
    if (!d) return SI_ERROR_INVALID_VALUE;
    *d = current->device;
    return SI_SUCCESS;
}

SI_API CUresult cuCtxSynchronize(void) {
    Guard g(lock_);
    if (int s = status()) return s;
    if (int s = capture_unsafe("cuCtxSynchronize")) return s;
    host_sync("ctx_synchronize");
    write_counters();
    return current->sticky;
}

// ---- memory ----

static CUresult allocate(uintptr_t* out, size_t bytes, bool host, const char* fn) {
    if (int s = status()) return s;
    if (int s = capture_unsafe(fn)) return s;
    if (!out || bytes == 0) return SI_ERROR_INVALID_VALUE;
    if (should_fail(fn) || (!host && live_bytes + bytes > cfg.memory)) return SI_ERROR_OUT_OF_MEMORY;
    size_t padded = (bytes + 255) / 256 * 256;
    Alloc a;
    a.raw_bytes = RED_ZONE + padded + RED_ZONE;
    a.raw = (unsigned char*)aligned_alloc(256, a.raw_bytes);
    if (!a.raw) return SI_ERROR_OUT_OF_MEMORY;
    memset(a.raw, RED_BYTE, a.raw_bytes);
    a.base = (uintptr_t)a.raw + RED_ZONE;
    a.bytes = bytes;
    a.host = host;
    a.serial = ++alloc_serial;
    memset((void*)a.base, 0xFF, bytes);  // uninitialised device memory: NaN floats, -1 ints
    if (!host) {
        live_bytes += bytes;
        peak_bytes = std::max(peak_bytes, live_bytes);
    }
    allocs[(uintptr_t)a.raw] = a;
    count(host ? "host_allocs" : "device_allocs");
    *out = a.base;
    return SI_SUCCESS;
}

static CUresult release(uintptr_t p, bool host, const char* fn) {
    if (int s = status(); s != SI_SUCCESS && s != SI_ERROR_ILLEGAL_ADDRESS) return s;
    INJECT(fn, SI_ERROR_INVALID_VALUE);
    if (int s = capture_unsafe(fn)) return s;
    host_sync("implicit_sync_free");  // freeing waits for the work that may still use the memory
    Alloc* a = find_alloc(p);
    if (!a || a->base != p || a->host != host) {
        if (a && a->host == host) say("%s(0x%" PRIxPTR "): %" PRIuPTR " bytes into allocation #%" PRIu64 ", not its start", fn, p,
                                      p - a->base, a->serial);
        else say("%s(0x%" PRIxPTR "): not a live %s allocation", fn, p, host ? "page-locked host" : "device");
        return SI_ERROR_INVALID_VALUE;
    }
    if (!host) live_bytes -= a->bytes;
    count(host ? "host_frees" : "device_frees");
    free(a->shadow);
    free(a->raw);
    allocs.erase((uintptr_t)a->raw);
    return current->sticky;
}

SI_API CUresult cuMemAlloc_v2(CUdeviceptr* p, size_t bytes) {
    Guard g(lock_);
    uintptr_t u = 0;
    CUresult r = allocate(&u, bytes, false, "cuMemAlloc_v2");
    if (r == SI_SUCCESS) *p = u;
    return r;
}

SI_API CUresult cuMemFree_v2(CUdeviceptr p) { Guard g(lock_); return release((uintptr_t)p, false, "cuMemFree_v2"); }

SI_API CUresult cuMemAllocHost_v2(void** p, size_t bytes) {
    Guard g(lock_);
    uintptr_t u = 0;
    CUresult r = allocate(&u, bytes, true, "cuMemAllocHost_v2");
    if (r == SI_SUCCESS) *p = (void*)u;
    return r;
}

SI_API CUresult cuMemHostAlloc(void** p, size_t bytes, unsigned) { return cuMemAllocHost_v2(p, bytes); }
SI_API CUresult cuMemFreeHost(void* p) { Guard g(lock_); return release((uintptr_t)p, true, "cuMemFreeHost"); }

SI_API CUresult cuMemGetInfo_v2(size_t* freeb, size_t* total) {
    Guard g(lock_);
    if (int s = status()) return s;
    if (!freeb || !total) return SI_ERROR_INVALID_VALUE;
    *total = cfg.memory;
    *freeb = cfg.memory - live_bytes;
    return SI_SUCCESS;
}

SI_API CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t bytes) {
    Guard g(lock_);
    if (int s = status()) return s;
    INJECT("cuMemcpyHtoD_v2", SI_ERROR_ILLEGAL_ADDRESS);
    if (!src && bytes) return SI_ERROR_INVALID_VALUE;
    if (int s = capture_unsafe("cuMemcpyHtoD_v2")) return s;
    if (int s = legacy_implicit(current, "cuMemcpyHtoD_v2")) return s;
    host_sync_legacy("sync_copies");
    if (int s = check_range(dst, bytes, "cuMemcpyHtoD: destination", true)) return s;
    memcpy((void*)dst, src, bytes);
    count("h2d_bytes", (long long)bytes);
    return SI_SUCCESS;
}

SI_API CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t bytes) {
    Guard g(lock_);
    if (int s = status()) return s;
    INJECT("cuMemcpyDtoH_v2", SI_ERROR_ILLEGAL_ADDRESS);
    if (!dst && bytes) return SI_ERROR_INVALID_VALUE;
    if (int s = capture_unsafe("cuMemcpyDtoH_v2")) return s;
    if (int s = legacy_implicit(current, "cuMemcpyDtoH_v2")) return s;
    host_sync_legacy("sync_copies");
    if (int s = current->sticky) return s;  // a fault in the work before the copy
    if (int s = check_range(src, bytes, "cuMemcpyDtoH: source", true)) return s;
    memcpy(dst, (const void*)src, bytes);
    count("d2h_bytes", (long long)bytes);
    return SI_SUCCESS;
}

SI_API CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
    Guard g(lock_);
    if (int s = status()) return s;
    if (int s = capture_unsafe("cuMemcpyDtoD_v2")) return s;
    if (int s = check_range(src, bytes, "cuMemcpyDtoD: source", true)) return s;
    if (int s = check_range(dst, bytes, "cuMemcpyDtoD: destination", true)) return s;
    if (bytes && dst < src + bytes && src < dst + bytes) {
        say("cuMemcpyDtoD: source and destination overlap (0x%llx, 0x%llx, %zu bytes)", src, dst, bytes);
        return SI_ERROR_INVALID_VALUE;
    }
    Ctx* ctx = current;
    int r = issue(ctx->legacy, "cuMemcpyDtoD", [=] {
        if (still_live(ctx, src, bytes, false, "cuMemcpyDtoD: source") && still_live(ctx, dst, bytes, false, "cuMemcpyDtoD: destination"))
            memcpy((void*)dst, (const void*)src, bytes);
    });
    if (r == SI_SUCCESS) count("d2d_bytes", (long long)bytes);
    return r;
}

SI_API CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned value, size_t n) {
    Guard g(lock_);
    if (int s = status()) return s;
    if (int s = capture_unsafe("cuMemsetD32_v2")) return s;  // a legacy-stream memset: treated as unsafe (docs/gpu.md)
    if (dst % 4) return SI_ERROR_INVALID_VALUE;
    if (int s = check_range(dst, 4 * n, "cuMemsetD32", true)) return s;
    Ctx* ctx = current;
    int r = issue(ctx->legacy, "cuMemsetD32", [=] {
        if (!still_live(ctx, dst, 4 * n, false, "cuMemsetD32")) return;
        unsigned* p = (unsigned*)dst;
        for (size_t i = 0; i < n; i++) p[i] = value;
    });
    if (r == SI_SUCCESS) count("memsets");
    return r;
}

// ---- modules: PTX text in, entries out ----

static bool parse_ptx(const char* text, int& isa, int& target, std::map<std::string, Module::Entry>& entries, std::string& why) {
    const char* v = strstr(text, "\n.version ");
    const char* t = strstr(text, "\n.target sm_");
    int maj = 0, min = 0;
    if (!v || sscanf(v, "\n.version %d.%d", &maj, &min) != 2) { why = "no .version directive"; return false; }
    if (!t || sscanf(t, "\n.target sm_%d", &target) != 1) { why = "no .target sm_XY directive"; return false; }
    isa = maj * 10 + min;
    for (const char* e = strstr(text, ".entry "); e; e = strstr(e + 1, ".entry ")) {
        const char* name = e + 7;
        const char* paren = strchr(name, '(');
        if (!paren) { why = "an .entry without a parameter list"; return false; }
        std::string n(name, (size_t)(paren - name));
        n.erase(n.find_last_not_of(" \t\r\n") + 1);
        const char* close = strchr(paren, ')');
        if (!close) { why = "unterminated .entry " + n; return false; }
        Module::Entry entry;
        for (const char* p = strstr(paren, ".param ."); p && p < close; p = strstr(p + 1, ".param .")) {
            char type[16] = {0};
            if (sscanf(p, ".param .%15[a-z0-9]", type) != 1) { why = "unreadable .param in " + n; return false; }
            entry.params.push_back(type);
        }
        entries[n] = entry;
    }
    if (entries.empty()) { why = "no .entry"; return false; }
    return true;
}

SI_API CUresult cuModuleLoadData(Module** out, const void* image) {
    Guard g(lock_);
    if (int s = status()) return s;
    INJECT("cuModuleLoadData", SI_ERROR_INVALID_PTX);
    if (!out || !image) return SI_ERROR_INVALID_VALUE;
    std::string text = std::string("\n") + (const char*)image;
    int isa = 0, target = 0;
    std::map<std::string, Module::Entry> entries;
    std::string why;
    if (!parse_ptx(text.c_str(), isa, target, entries, why)) {
        say("cuModuleLoadData: not PTX this stand-in can load: %s", why.c_str());
        return SI_ERROR_INVALID_IMAGE;
    }
    if (isa > max_ptx_isa(cfg.driver)) {
        say("cuModuleLoadData: PTX ISA %d.%d is newer than this driver (CUDA %d.%d) supports (%d.%d)", isa / 10, isa % 10,
            cfg.driver / 1000, cfg.driver % 1000 / 10, max_ptx_isa(cfg.driver) / 10, max_ptx_isa(cfg.driver) % 10);
        return SI_ERROR_UNSUPPORTED_PTX_VERSION;
    }
    if (target > cfg.cc_major * 10 + cfg.cc_minor) {
        say("cuModuleLoadData: PTX .target sm_%d is above this device (sm_%d%d)", target, cfg.cc_major, cfg.cc_minor);
        return SI_ERROR_INVALID_PTX;
    }
    Module* m = new Module{current, entries};
    modules.insert(m);
    count("module_load");
    *out = m;
    return SI_SUCCESS;
}

SI_API CUresult cuModuleUnload(Module* m) {
    Guard g(lock_);
    if (int s = status(); s != SI_SUCCESS && s != SI_ERROR_ILLEGAL_ADDRESS) return s;
    if (!modules.count(m)) return SI_ERROR_INVALID_HANDLE;
    run_all();
    for (auto it = funcs.begin(); it != funcs.end();) {
        if ((*it)->module == m) { delete *it; it = funcs.erase(it); }
        else ++it;
    }
    modules.erase(m);
    delete m;
    count("module_unload");
    write_counters();
    return SI_SUCCESS;
}

SI_API CUresult cuModuleGetFunction(Func** out, Module* m, const char* name) {
    Guard g(lock_);
    if (int s = status()) return s;
    if (!out || !name) return SI_ERROR_INVALID_VALUE;
    if (!modules.count(m)) return SI_ERROR_INVALID_HANDLE;
    auto e = m->entries.find(name);
    if (e == m->entries.end()) return SI_ERROR_NOT_FOUND;
    const Twin* twin = find_twin(name);
    if (!twin) {
        say("cuModuleGetFunction(%s): the PTX has it, but the stand-in has no g++ build of it (kernels/standin/kernels.cpp)", name);
        return SI_ERROR_NOT_FOUND;
    }
    if (twin->ptx != e->second.params) {
        std::string cpp, ptx;
        for (auto& s : twin->ptx) cpp += " ." + s;
        for (auto& s : e->second.params) ptx += " ." + s;
        say("cuModuleGetFunction(%s): the C++ kernel takes (%s ) but the PTX entry (%s ): stale PTX?", name, cpp.c_str(), ptx.c_str());
        return SI_ERROR_INVALID_IMAGE;
    }
    Func* f = new Func{m, twin, name, {}};
    for (auto& t : twin->ptx) f->sizes.push_back(t == "u64" || t == "s64" || t == "f64" ? 8 : 4);
    funcs.insert(f);
    *out = f;
    return SI_SUCCESS;
}

// ---- kernel launches ----

static float* first_float(const std::vector<unsigned char>& bytes) {
    float* p = nullptr;
    memcpy(&p, bytes.data(), sizeof p);
    return p;
}

static void run_kernel(Ctx* ctx, Func* f, const ArgBytes& args, unsigned grid, unsigned block) {
    uint64_t seed = launch_seed++;  // a new block order for every run, graph replays included
    begin_launch(f->name, cfg.checks);
    f->twin->run(args, grid, block, seed);
    Findings found = end_launch();
    count("kernels_run");
    if (found.races) count("races", (long long)found.races);
    if (found.out_of_bounds) count("out_of_bounds", (long long)found.out_of_bounds);
    if (found.races || found.out_of_bounds) {
        say("%s (grid %u x block %u): %" PRIu64 " out-of-bounds accesses, %" PRIu64 " racing accesses; first: %s", f->name.c_str(),
            grid, block, found.out_of_bounds, found.races, found.first.c_str());
        fault(ctx, SI_ERROR_ILLEGAL_ADDRESS);
    }
    if (!cfg.corrupt.empty() && cfg.corrupt == f->name)
        for (size_t i = args.size(); i-- > 0;)
            if (f->twin->pointer[i]) {  // the last pointer: an output of every kernel here
                float* p = first_float(args[i]);
                if (p) *p += 1.0f;
                break;
            }
}

SI_API CUresult cuLaunchKernel(Func* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                               unsigned smem, void* stream, void** params, void** extra) {
    Guard g(lock_);
    if (int s = status()) return s;
    INJECT("cuLaunchKernel", SI_ERROR_LAUNCH_OUT_OF_RESOURCES);
    if (!funcs.count(f)) return SI_ERROR_INVALID_HANDLE;
    if (f->module->ctx != current) return SI_ERROR_INVALID_HANDLE;
    if (gx == 0 || gy == 0 || gz == 0 || bx == 0 || by == 0 || bz == 0 || bx * by * bz > 1024 || gy > 65535 || gz > 65535)
        return SI_ERROR_INVALID_VALUE;
    if (gy != 1 || gz != 1 || by != 1 || bz != 1 || smem != 0 || extra) {
        say("cuLaunchKernel(%s): the stand-in runs 1-D grids without shared memory or `extra` only", f->name.c_str());
        return SI_ERROR_NOT_SUPPORTED;
    }
    Stream* st = nullptr;
    if (resolve_stream(stream, &st)) return SI_ERROR_INVALID_HANDLE;
    if (!params && !f->sizes.empty()) return SI_ERROR_INVALID_VALUE;
    ArgBytes args(f->sizes.size());  // parameters are copied at launch, as the driver does
    for (size_t i = 0; i < args.size(); i++) {
        const unsigned char* p = (const unsigned char*)params[i];
        args[i].assign(p, p + f->sizes[i]);
    }
    bool captured = capturing(st);
    Ctx* ctx = current;
    int r = issue(st, f->name.c_str(), [=] {
        if (!funcs.count(f)) {  // a graph replayed after cuModuleUnload
            say("a replayed launch of a kernel whose module was unloaded");
            fault(ctx, SI_ERROR_ILLEGAL_ADDRESS);
            return;
        }
        run_kernel(ctx, f, args, gx, bx);
    }, true);
    if (r == SI_SUCCESS && !captured) count("launches");  // eager launches; captured ones count as captured_launches
    return r;
}

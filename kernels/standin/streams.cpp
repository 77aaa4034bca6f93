// streams.cpp: streams, events, asynchronous copies, stream capture and graphs of the libcuda.so.1
// stand-in (cuda.cpp has the rest; docs/gpu.md says what is enforced). Everything runs under
// cuda.cpp's lock.
//
// Scheduling. Each stream has its own queue; a work item runs when something waits for it, in
// issue order within its stream. The legacy default stream (handle 0, CU_STREAM_LEGACY,
// CU_STREAM_PER_THREAD) synchronises with the blocking streams (created with flags 0): legacy work
// depends on the work the blocking streams had issued before it, and a blocking stream's work on
// the legacy work issued before it. Non-blocking streams (CU_STREAM_NON_BLOCKING) depend on
// nothing. Running a queue runs what its items depend on first. So a synchronous copy (a legacy
// sync) runs the legacy queue and the blocking streams' queues but leaves a non-blocking stream's
// work pending: code that forgets cuStreamSynchronize reads stale data, as it can on a card.
// Running some queues and not others, or running work earlier than a card would (a query makes
// progress, a stream's queue of 4096 runs), is a schedule a card may also choose.
//
// Capture (cuStreamBeginCapture_v2) records the work issued to a stream into a graph instead of
// queueing it, with the driver's rules: no capture of the legacy stream; "potentially unsafe"
// calls (allocation, free, synchronous copies and memsets, synchronisations, queries) refused and
// the capture invalidated, as the capture mode says; async copies of pageable host memory refused;
// legacy-stream work while a blocking stream captures refused (906); cuStreamEndCapture from the
// beginning thread unless relaxed. cuEventRecord on a capturing stream makes the event a captured
// event (no node, as without CU_EVENT_RECORD_EXTERNAL): querying or waiting on it is
// CUDA_ERROR_CAPTURED_EVENT until it is recorded again outside a capture. A graph launch queues the
// graph's nodes on the stream in recorded order (a valid order for a single-stream capture).
#include "internal.h"
#include "standin.h"

#include <algorithm>
#include <cinttypes>
#include <cstring>
#include <deque>
#include <set>
#include <thread>

#define SI_API extern "C" __attribute__((visibility("default")))

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

namespace standin {

enum CaptureMode : int { GLOBAL = 0, THREAD_LOCAL = 1, RELAXED = 2 };

const char* mode_name(int m) { return m == GLOBAL ? "global" : m == THREAD_LOCAL ? "thread-local" : "relaxed"; }

struct Dep {
    uint64_t stream;  // a stream's id
    uint64_t seq;     // its work up to this number must have run
};

struct Work {
    std::string what;
    Ctx* ctx;
    std::function<void()> fn;
    std::vector<Dep> deps;
};

struct Capture;

struct Stream {
    uint64_t id = 0;
    Ctx* ctx = nullptr;
    bool legacy = false, nonblocking = false;
    std::deque<Work> queue;         // work numbered (done, issued]
    uint64_t issued = 0, done = 0;
    Capture* capture = nullptr;     // while it captures
};

// Work as issued: bind() runs when the work is queued (issued eagerly, or at each graph launch)
// and returns what runs later; most work binds to itself, a copy from page-locked memory also
// takes a snapshot then, to catch the host writing the buffer before the copy ran.
using Bind = std::function<std::function<void()>()>;

struct Node {
    std::string what;
    Bind bind;
};

struct Capture {
    Stream* stream;
    int mode;
    std::thread::id thread;  // that began it
    bool invalidated = false;
    std::vector<Node> nodes;
};

struct Graph {
    Ctx* ctx;
    std::vector<Node> nodes;
};

struct GraphExec {
    Ctx* ctx;
    std::vector<Node> nodes;
};

struct Event {
    Ctx* ctx;
    unsigned flags;
    bool recorded = false;          // never recorded: complete, as in CUDA
    bool captured = false;          // last recorded in a capturing stream
    uint64_t stream = 0, seq = 0;   // complete once that stream ran its work up to seq
};

// Never destroyed: cuda.cpp writes the counters (live_streams, ...) from a static destructor at
// exit, which may run after this file's statics are gone.
uint64_t stream_serial = 0;
auto& streams = *new std::map<uint64_t, Stream*>;  // by id, the legacy ones too
auto& created = *new std::set<Stream*>;            // live cuStreamCreate'd streams
auto& captures = *new std::set<Capture*>;          // active (possibly invalidated) captures
auto& events = *new std::set<Event*>;
auto& graphs = *new std::set<Graph*>;
auto& execs = *new std::set<GraphExec*>;
thread_local int thread_mode = GLOBAL;  // cuThreadExchangeStreamCaptureMode

Stream* make_stream(Ctx* ctx, bool legacy, bool nonblocking) {
    Stream* s = new Stream;
    s->id = ++stream_serial;
    s->ctx = ctx;
    s->legacy = legacy;
    s->nonblocking = nonblocking;
    streams[s->id] = s;
    return s;
}

Stream* new_legacy_stream(Ctx* ctx) { return make_stream(ctx, true, false); }

Stream* by_id(uint64_t id) {
    auto it = streams.find(id);
    return it == streams.end() ? nullptr : it->second;
}

int resolve_stream(void* handle, Stream** out) {
    if (handle == nullptr || handle == (void*)1 || handle == (void*)2) {
        *out = current->legacy;
        return SI_SUCCESS;
    }
    Stream* s = (Stream*)handle;
    if (!created.count(s) || s->ctx != current) return SI_ERROR_INVALID_HANDLE;
    *out = s;
    return SI_SUCCESS;
}

bool capturing(const Stream* s) { return s->capture != nullptr; }

// ---- running queued work ----

// Runs stream s's work up to number `upto`, in issue order; an item whose dependencies have not
// run yet runs them first (an explicit stack: chains of legacy and blocking work can be long).
// The work of a context with a sticky error is dropped, as a dead context's work is on a card.
void run_to(Stream* s, uint64_t upto) {
    std::vector<Dep> todo{{s->id, upto}};
    while (!todo.empty()) {
        Stream* t = by_id(todo.back().stream);
        if (!t || t->done >= todo.back().seq || t->queue.empty()) {
            todo.pop_back();
            continue;
        }
        const Dep* wait = nullptr;
        for (const Dep& d : t->queue.front().deps) {
            Stream* u = by_id(d.stream);
            if (u && u->done < d.seq) { wait = &d; break; }
        }
        if (wait) {
            todo.push_back(*wait);
            continue;
        }
        Work w = std::move(t->queue.front());
        t->queue.pop_front();
        t->done++;
        if (w.ctx->sticky == SI_SUCCESS) w.fn();
    }
}

void run_stream(Stream* s) {
    run_to(s, s->issued);
    check_redzones();
}

void run_all() {
    for (auto& [id, s] : streams) run_to(s, s->issued);
    check_redzones();
}

void run_legacy(Ctx* ctx) {
    run_to(ctx->legacy, ctx->legacy->issued);
    for (Stream* b : created)
        if (b->ctx == ctx && !b->nonblocking) run_to(b, b->issued);
    check_redzones();
}

bool pending(const Stream* s) { return s->done < s->issued; }

// Queues work on s with the dependencies the legacy-stream rules give it.
void push_work(Stream* s, const std::string& what, std::function<void()> fn) {
    Work w{what, s->ctx, std::move(fn), {}};
    if (s->legacy) {
        for (Stream* b : created)
            if (b->ctx == s->ctx && !b->nonblocking && pending(b)) w.deps.push_back({b->id, b->issued});
    } else if (!s->nonblocking && pending(s->ctx->legacy)) {
        w.deps.push_back({s->ctx->legacy->id, s->ctx->legacy->issued});
    }
    s->queue.push_back(std::move(w));
    s->issued++;
    if (s->queue.size() > 4096) run_stream(s);  // a card's queue is finite too: the host waits, no sync counted
}

// ---- capture rules ----

void* handle_of(const Stream* s) { return s->legacy ? nullptr : (void*)s; }

void invalidate(Capture* c, const char* fn, const char* why) {
    if (!c->invalidated) count("captures_invalidated");
    c->invalidated = true;
    say("%s: %s during the %s capture of stream %p: refused, and the capture is invalidated "
        "(cuStreamEndCapture returns CUDA_ERROR_STREAM_CAPTURE_INVALIDATED)",
        fn, why, mode_name(c->mode), handle_of(c->stream));
}

int capture_unsafe(const char* fn) {
    if (captures.empty() || thread_mode == RELAXED) return SI_SUCCESS;
    std::thread::id me = std::this_thread::get_id();
    int code = SI_SUCCESS;
    for (Capture* c : captures) {
        bool own = c->thread == me && c->mode != RELAXED;
        bool other = c->thread != me && c->mode == GLOBAL && thread_mode == GLOBAL;
        if (own || other) {
            invalidate(c, fn, own ? "a potentially unsafe call from the capturing thread" : "a potentially unsafe call from another thread");
            code = SI_ERROR_STREAM_CAPTURE_UNSUPPORTED;
        }
    }
    return code;
}

int legacy_implicit(Ctx* ctx, const char* fn) {
    int code = SI_SUCCESS;
    for (Capture* c : captures)
        if (c->stream->ctx == ctx && !c->stream->nonblocking) {
            invalidate(c, fn, "legacy-stream work (an implicit dependency on the capturing blocking stream)");
            code = SI_ERROR_STREAM_CAPTURE_IMPLICIT;
        }
    return code;
}

// An operation that must not go into a capture (pageable memory, a graph launch): refused.
int refuse_in_capture(Stream* s, const char* fn, const char* why) {
    if (s->capture->invalidated) return SI_ERROR_STREAM_CAPTURE_INVALIDATED;
    invalidate(s->capture, fn, why);
    return SI_ERROR_STREAM_CAPTURE_UNSUPPORTED;
}

int issue_bound(Stream* s, const char* what, Bind bind, bool kernel = false) {
    if (Capture* c = s->capture) {
        if (c->invalidated) return SI_ERROR_STREAM_CAPTURE_INVALIDATED;
        c->nodes.push_back(Node{what, std::move(bind)});
        count("captured_nodes");
        if (kernel) count("captured_launches");
        return SI_SUCCESS;
    }
    if (s->legacy)
        if (int r = legacy_implicit(s->ctx, what)) return r;
    push_work(s, what, bind());
    return SI_SUCCESS;
}

int issue(Stream* s, const char* what, std::function<void()> fn, bool kernel) {
    return issue_bound(s, what, [fn = std::move(fn)] { return fn; }, kernel);
}

// ---- the context's end, counters ----

void drop_streams(Ctx* ctx) {
    for (auto& [id, s] : streams)
        if (s->ctx == ctx) {
            s->queue.clear();
            s->done = s->issued;
            if (s->capture) {
                captures.erase(s->capture);
                delete s->capture;
                s->capture = nullptr;
            }
        }
    long long n = 0;
    for (auto it = created.begin(); it != created.end();)
        if ((*it)->ctx == ctx) {
            streams.erase((*it)->id);
            delete *it;
            it = created.erase(it);
            n++;
        } else {
            ++it;
        }
    if (n) count("streams_freed_by_context_destroy", n);
    n = 0;
    for (auto it = events.begin(); it != events.end();)
        if ((*it)->ctx == ctx) { delete *it; it = events.erase(it); n++; }
        else ++it;
    if (n) count("events_freed_by_context_destroy", n);
    n = 0;
    for (auto it = graphs.begin(); it != graphs.end();)
        if ((*it)->ctx == ctx) { delete *it; it = graphs.erase(it); n++; }
        else ++it;
    for (auto it = execs.begin(); it != execs.end();)
        if ((*it)->ctx == ctx) { delete *it; it = execs.erase(it); n++; }
        else ++it;
    if (n) count("graphs_freed_by_context_destroy", n);
}

void stream_counters(std::map<std::string, long long>& all) {
    all["live_streams"] = (long long)created.size();
    all["live_events"] = (long long)events.size();
    all["live_graphs"] = (long long)graphs.size();
    all["live_graph_execs"] = (long long)execs.size();
    all["active_captures"] = (long long)captures.size();
}

// The status a destroy call goes on under: it frees even in a context with a sticky fault (and
// then returns the fault, as release() in cuda.cpp does).
int destroy_status() {
    int s = status();
    return s == SI_ERROR_ILLEGAL_ADDRESS ? SI_SUCCESS : s;
}

// Where the host side of an async copy lies: page-locked (inside a live cuMemAllocHost or
// cuMemHostAlloc allocation), pageable (in no allocation), or wrong (device memory, or running
// past a page-locked allocation: said, and refused).
enum class HostMem { pageable, pinned, bad };

HostMem host_side(uintptr_t p, size_t bytes, const char* what) {
    if (bytes == 0) return HostMem::pageable;
    Alloc* a = find_alloc(p);
    Alloc* b = find_alloc(p + bytes - 1);
    if (!a && !b) return HostMem::pageable;
    if (a && a->host && p >= a->base && p + bytes <= a->base + a->bytes) return HostMem::pinned;
    Alloc* x = a ? a : b;
    if (!x->host)
        say("%s: 0x%" PRIxPTR " is device memory (allocation #%" PRIu64 "), not host memory", what, p, x->serial);
    else
        say("%s: [0x%" PRIxPTR ", +%zu bytes) runs outside page-locked allocation #%" PRIu64 " [0x%" PRIxPTR ", +%zu bytes)", what,
            p, bytes, x->serial, x->base, x->bytes);
    return HostMem::bad;
}

// A copy from page-locked memory, queued now: on a card the device reads the buffer at some time
// between now and the copy's completion, so a host write to it in between is a race. The work
// compares the buffer with a snapshot taken now and, like a data race in a kernel, reports a
// difference as a fault.
std::function<void()> pinned_upload(Ctx* ctx, uintptr_t dst, uintptr_t hp, size_t bytes) {
    Alloc* a = find_alloc(hp);
    if (!a || !a->host || hp + bytes > a->base + a->bytes)  // freed before this graph launch: reported when it runs
        return [=] { still_live(ctx, hp, bytes, true, "cuMemcpyHtoDAsync: source"); };
    auto snapshot = std::make_shared<std::vector<unsigned char>>((const unsigned char*)hp, (const unsigned char*)hp + bytes);
    return [=] {
        if (!still_live(ctx, hp, bytes, true, "cuMemcpyHtoDAsync: source") ||
            !still_live(ctx, dst, bytes, false, "cuMemcpyHtoDAsync: destination"))
            return;
        if (memcmp(snapshot->data(), (const void*)hp, bytes) != 0) {
            say("cuMemcpyHtoDAsync: the host wrote page-locked memory [0x%" PRIxPTR ", +%zu bytes) after the copy from it was "
                "queued and before it ran: a race on a card (wait for an event before reusing the buffer)", hp, bytes);
            count("host_races");
            fault(ctx, SI_ERROR_ILLEGAL_ADDRESS);
            return;
        }
        memcpy((void*)dst, (const void*)hp, bytes);
    };
}

}  // namespace standin

using namespace standin;

// ---- streams ----

SI_API CUresult cuStreamCreate(Stream** out, unsigned flags) {
    Guard g(lock_);
    if (int s = status()) return s;
    if (!out || (flags & ~1u)) return SI_ERROR_INVALID_VALUE;
    Stream* s = make_stream(current, false, flags & 1u);
    created.insert(s);
    count("streams_created");
    *out = s;
    return SI_SUCCESS;
}

SI_API CUresult cuStreamDestroy_v2(Stream* h) {
    Guard g(lock_);
    if (int s = destroy_status()) return s;
    if (!created.count(h) || h->ctx != current) return SI_ERROR_INVALID_HANDLE;
    if (h->capture) {
        say("cuStreamDestroy: stream %p is capturing; end the capture first (cuStreamEndCapture)", (void*)h);
        return SI_ERROR_ILLEGAL_STATE;
    }
    if (pending(h)) run_stream(h);  // the device finishes what was issued; the host does not wait
    streams.erase(h->id);
    created.erase(h);
    delete h;
    count("streams_destroyed");
    return current->sticky;
}

SI_API CUresult cuStreamSynchronize(void* h) {
    Guard g(lock_);
    if (int s = status()) return s;
    Stream* s = nullptr;
    if (resolve_stream(h, &s)) return SI_ERROR_INVALID_HANDLE;
    if (s->capture) return refuse_in_capture(s, "cuStreamSynchronize", "synchronising the capturing stream itself");
    if (int r = capture_unsafe("cuStreamSynchronize")) return r;
    if (s->legacy)
        if (int r = legacy_implicit(s->ctx, "cuStreamSynchronize")) return r;
    count("host_syncs");
    count("stream_synchronize");
    if (s->legacy) run_legacy(s->ctx);
    else run_stream(s);
    write_counters();  // as cuCtxSynchronize: a point where tests read them (CudaBackend.sync is a stream sync)
    return current->sticky;
}

// Not a host synchronisation: pending work reports CUDA_ERROR_NOT_READY, and the emulated device
// then finishes it (a card runs on its own), so the next query reports it done.
SI_API CUresult cuStreamQuery(void* h) {
    Guard g(lock_);
    if (int s = status()) return s;
    Stream* s = nullptr;
    if (resolve_stream(h, &s)) return SI_ERROR_INVALID_HANDLE;
    if (s->capture) return refuse_in_capture(s, "cuStreamQuery", "querying the capturing stream itself");
    if (int r = capture_unsafe("cuStreamQuery")) return r;
    if (s->legacy)
        if (int r = legacy_implicit(s->ctx, "cuStreamQuery")) return r;
    count("stream_queries");
    bool busy = pending(s);
    if (s->legacy)
        for (Stream* b : created) busy |= b->ctx == s->ctx && !b->nonblocking && pending(b);
    if (!busy) return SI_SUCCESS;
    if (s->legacy) run_legacy(s->ctx);
    else run_stream(s);
    return SI_ERROR_NOT_READY;
}

// ---- capture ----

SI_API CUresult cuStreamBeginCapture_v2(void* h, int mode) {
    Guard g(lock_);
    if (int s = status()) return s;
    Stream* s = nullptr;
    if (resolve_stream(h, &s)) return SI_ERROR_INVALID_HANDLE;
    if (s->legacy) {
        say("cuStreamBeginCapture: the legacy default stream cannot be captured; capture a created stream");
        return SI_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    }
    if (mode < GLOBAL || mode > RELAXED) return SI_ERROR_INVALID_VALUE;
    if (s->capture) return SI_ERROR_ILLEGAL_STATE;
    Capture* c = new Capture{s, mode, std::this_thread::get_id(), false, {}};
    s->capture = c;
    captures.insert(c);
    count("captures");
    return SI_SUCCESS;
}

SI_API CUresult cuStreamEndCapture(void* h, Graph** out) {
    Guard g(lock_);
    if (int s = status()) return s;
    Stream* s = nullptr;
    if (resolve_stream(h, &s)) return SI_ERROR_INVALID_HANDLE;
    if (!out) return SI_ERROR_INVALID_VALUE;
    Capture* c = s->capture;
    if (!c) return SI_ERROR_ILLEGAL_STATE;
    if (c->mode != RELAXED && c->thread != std::this_thread::get_id()) {
        say("cuStreamEndCapture: the %s capture of stream %p was begun on another thread", mode_name(c->mode), h);
        return SI_ERROR_STREAM_CAPTURE_WRONG_THREAD;
    }
    s->capture = nullptr;
    captures.erase(c);
    std::unique_ptr<Capture> gone(c);
    if (c->invalidated) {
        *out = nullptr;
        return SI_ERROR_STREAM_CAPTURE_INVALIDATED;
    }
    Graph* graph = new Graph{s->ctx, std::move(c->nodes)};
    graphs.insert(graph);
    *out = graph;
    return SI_SUCCESS;
}

SI_API CUresult cuStreamIsCapturing(void* h, int* st) {
    Guard g(lock_);
    if (int s = status()) return s;
    if (!st) return SI_ERROR_INVALID_VALUE;
    Stream* s = nullptr;
    if (resolve_stream(h, &s)) return SI_ERROR_INVALID_HANDLE;
    if (s->legacy) {
        for (Capture* c : captures)  // the blocking stream's capture is not invalidated by asking
            if (c->stream->ctx == s->ctx && !c->stream->nonblocking) return SI_ERROR_STREAM_CAPTURE_IMPLICIT;
        *st = 0;
        return SI_SUCCESS;
    }
    *st = !s->capture ? 0 : s->capture->invalidated ? 2 : 1;  // NONE, ACTIVE, INVALIDATED
    return SI_SUCCESS;
}

SI_API CUresult cuThreadExchangeStreamCaptureMode(int* mode) {
    Guard g(lock_);
    if (!mode || *mode < GLOBAL || *mode > RELAXED) return SI_ERROR_INVALID_VALUE;
    std::swap(*mode, thread_mode);
    return SI_SUCCESS;
}

// ---- events ----

SI_API CUresult cuEventCreate(Event** out, unsigned flags) {
    Guard g(lock_);
    if (int s = status()) return s;
    // DEFAULT 0, BLOCKING_SYNC 1, DISABLE_TIMING 2, INTERPROCESS 4 (needs DISABLE_TIMING)
    if (!out || (flags & ~7u) || ((flags & 4u) && !(flags & 2u))) return SI_ERROR_INVALID_VALUE;
    Event* e = new Event{current, flags};
    events.insert(e);
    count("events_created");
    *out = e;
    return SI_SUCCESS;
}

SI_API CUresult cuEventDestroy_v2(Event* e) {
    Guard g(lock_);
    if (int s = destroy_status()) return s;
    if (!events.count(e)) return SI_ERROR_INVALID_HANDLE;
    events.erase(e);
    delete e;
    count("events_destroyed");
    return current->sticky;
}

SI_API CUresult cuEventRecord(Event* e, void* h) {
    Guard g(lock_);
    if (int s = status()) return s;
    if (!events.count(e)) return SI_ERROR_INVALID_HANDLE;
    Stream* s = nullptr;
    if (resolve_stream(h, &s) || e->ctx != s->ctx) return SI_ERROR_INVALID_HANDLE;
    if (Capture* c = s->capture) {
        if (c->invalidated) return SI_ERROR_STREAM_CAPTURE_INVALIDATED;
        e->recorded = e->captured = true;  // no node: a graph replay does not record it
        count("events_recorded");
        return SI_SUCCESS;
    }
    if (s->legacy)
        if (int r = legacy_implicit(s->ctx, "cuEventRecord")) return r;
    push_work(s, "cuEventRecord", [] {});
    e->recorded = true;
    e->captured = false;
    e->stream = s->id;
    e->seq = s->issued;
    count("events_recorded");
    return SI_SUCCESS;
}

static int captured_event(Event* e, const char* fn) {
    say("%s: the event was last recorded in a capturing stream; record it after the graph launch instead", fn);
    (void)e;
    return SI_ERROR_CAPTURED_EVENT;
}

// Not a host synchronisation, like cuStreamQuery: NOT_READY while the recorded work is pending,
// after which the emulated device finishes it.
SI_API CUresult cuEventQuery(Event* e) {
    Guard g(lock_);
    if (int s = status()) return s;
    if (int r = capture_unsafe("cuEventQuery")) return r;
    if (!events.count(e)) return SI_ERROR_INVALID_HANDLE;
    if (e->captured) return captured_event(e, "cuEventQuery");
    count("event_queries");
    Stream* s = e->recorded ? by_id(e->stream) : nullptr;
    if (!s || s->done >= e->seq) return SI_SUCCESS;
    run_to(s, e->seq);
    check_redzones();
    return SI_ERROR_NOT_READY;
}

SI_API CUresult cuEventSynchronize(Event* e) {
    Guard g(lock_);
    if (int s = status()) return s;
    if (int r = capture_unsafe("cuEventSynchronize")) return r;
    if (!events.count(e)) return SI_ERROR_INVALID_HANDLE;
    if (e->captured) return captured_event(e, "cuEventSynchronize");
    count("host_syncs");
    count("event_synchronize");
    if (Stream* s = e->recorded ? by_id(e->stream) : nullptr) run_to(s, e->seq);
    check_redzones();
    return current->sticky;
}

// ---- asynchronous copies and memsets ----

SI_API CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t bytes, void* h) {
    Guard g(lock_);
    if (int s = status()) return s;
    if (!src && bytes) return SI_ERROR_INVALID_VALUE;
    Stream* s = nullptr;
    if (resolve_stream(h, &s)) return SI_ERROR_INVALID_HANDLE;
    if (int r = check_range(dst, bytes, "cuMemcpyHtoDAsync: destination", true)) return r;
    HostMem kind = host_side((uintptr_t)src, bytes, "cuMemcpyHtoDAsync: source");
    if (kind == HostMem::bad) return SI_ERROR_INVALID_VALUE;
    Ctx* ctx = current;
    int r;
    if (kind == HostMem::pageable) {
        if (s->capture) return refuse_in_capture(s, "cuMemcpyHtoDAsync", "a copy from pageable host memory");
        // the driver copies pageable memory into a staging buffer before the call returns
        auto staging = std::make_shared<std::vector<unsigned char>>((const unsigned char*)src, (const unsigned char*)src + bytes);
        r = issue(s, "cuMemcpyHtoDAsync (staged)", [=] {
            if (still_live(ctx, dst, bytes, false, "cuMemcpyHtoDAsync: destination")) memcpy((void*)dst, staging->data(), bytes);
        });
        if (r == SI_SUCCESS) count("pageable_async_copies");
    } else {
        r = issue_bound(s, "cuMemcpyHtoDAsync", [ctx, dst, hp = (uintptr_t)src, bytes] { return pinned_upload(ctx, dst, hp, bytes); });
    }
    if (r == SI_SUCCESS) {
        count("async_copies");
        count("h2d_bytes", (long long)bytes);
    }
    return r;
}

SI_API CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t bytes, void* h) {
    Guard g(lock_);
    if (int s = status()) return s;
    if (!dst && bytes) return SI_ERROR_INVALID_VALUE;
    Stream* s = nullptr;
    if (resolve_stream(h, &s)) return SI_ERROR_INVALID_HANDLE;
    if (int r = check_range(src, bytes, "cuMemcpyDtoHAsync: source", true)) return r;
    HostMem kind = host_side((uintptr_t)dst, bytes, "cuMemcpyDtoHAsync: destination");
    if (kind == HostMem::bad) return SI_ERROR_INVALID_VALUE;
    if (kind == HostMem::pageable) {
        // to pageable memory the driver returns only once the copy is done: a synchronisation of s
        if (s->capture) return refuse_in_capture(s, "cuMemcpyDtoHAsync", "a copy to pageable host memory");
        if (int r = capture_unsafe("cuMemcpyDtoHAsync (pageable, synchronous)")) return r;
        if (s->legacy)
            if (int r = legacy_implicit(s->ctx, "cuMemcpyDtoHAsync")) return r;
        count("host_syncs");
        count("pageable_async_copies");
        if (s->legacy) run_legacy(s->ctx);
        else run_stream(s);
        if (int r = current->sticky) return r;
        memcpy(dst, (const void*)src, bytes);
    } else {
        Ctx* ctx = current;
        uintptr_t hp = (uintptr_t)dst;
        int r = issue(s, "cuMemcpyDtoHAsync", [=] {
            if (still_live(ctx, src, bytes, false, "cuMemcpyDtoHAsync: source") &&
                still_live(ctx, hp, bytes, true, "cuMemcpyDtoHAsync: destination"))
                memcpy((void*)hp, (const void*)src, bytes);
        });
        if (r) return r;
    }
    count("async_copies");
    count("d2h_bytes", (long long)bytes);
    return SI_SUCCESS;
}

SI_API CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes, void* h) {
    Guard g(lock_);
    if (int s = status()) return s;
    Stream* s = nullptr;
    if (resolve_stream(h, &s)) return SI_ERROR_INVALID_HANDLE;
    if (int r = check_range(src, bytes, "cuMemcpyDtoDAsync: source", true)) return r;
    if (int r = check_range(dst, bytes, "cuMemcpyDtoDAsync: destination", true)) return r;
    if (bytes && dst < src + bytes && src < dst + bytes) {
        say("cuMemcpyDtoDAsync: source and destination overlap (0x%llx, 0x%llx, %zu bytes)", src, dst, bytes);
        return SI_ERROR_INVALID_VALUE;
    }
    Ctx* ctx = current;
    int r = issue(s, "cuMemcpyDtoDAsync", [=] {
        if (still_live(ctx, src, bytes, false, "cuMemcpyDtoDAsync: source") &&
            still_live(ctx, dst, bytes, false, "cuMemcpyDtoDAsync: destination"))
            memcpy((void*)dst, (const void*)src, bytes);
    });
    if (r) return r;
    count("async_copies");
    count("d2d_bytes", (long long)bytes);
    return SI_SUCCESS;
}

SI_API CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned value, size_t n, void* h) {
    Guard g(lock_);
    if (int s = status()) return s;
    Stream* s = nullptr;
    if (resolve_stream(h, &s)) return SI_ERROR_INVALID_HANDLE;
    if (dst % 4) return SI_ERROR_INVALID_VALUE;
    if (int r = check_range(dst, 4 * n, "cuMemsetD32Async", true)) return r;
    Ctx* ctx = current;
    int r = issue(s, "cuMemsetD32Async", [=] {
        if (!still_live(ctx, dst, 4 * n, false, "cuMemsetD32Async")) return;
        unsigned* p = (unsigned*)dst;
        for (size_t i = 0; i < n; i++) p[i] = value;
    });
    if (r == SI_SUCCESS) count("memsets");
    return r;
}

// ---- graphs ----

SI_API CUresult cuGraphInstantiateWithFlags(GraphExec** out, Graph* graph, unsigned long long flags) {
    Guard g(lock_);
    if (int s = status()) return s;
    if (!out) return SI_ERROR_INVALID_VALUE;
    if (!graphs.count(graph)) return SI_ERROR_INVALID_HANDLE;
    // AUTO_FREE_ON_LAUNCH 1 (no memory nodes here: nothing to do), USE_NODE_PRIORITY 8; UPLOAD 2 is
    // for cuGraphInstantiateWithParams only; DEVICE_LAUNCH 4 is not emulated
    if (flags & ~(1ull | 2ull | 4ull | 8ull) || (flags & 2ull)) return SI_ERROR_INVALID_VALUE;
    if (flags & 4ull) {
        say("cuGraphInstantiateWithFlags: CUDA_GRAPH_INSTANTIATE_FLAG_DEVICE_LAUNCH is not emulated");
        return SI_ERROR_NOT_SUPPORTED;
    }
    GraphExec* e = new GraphExec{current, graph->nodes};
    execs.insert(e);
    count("graph_instantiations");
    *out = e;
    return SI_SUCCESS;
}

SI_API CUresult cuGraphLaunch(GraphExec* e, void* h) {
    Guard g(lock_);
    if (int s = status()) return s;
    if (!execs.count(e) || e->ctx != current) return SI_ERROR_INVALID_HANDLE;
    Stream* s = nullptr;
    if (resolve_stream(h, &s)) return SI_ERROR_INVALID_HANDLE;
    // a card records a child-graph node here; the stand-in refuses it (stricter, said in docs/gpu.md)
    if (s->capture) return refuse_in_capture(s, "cuGraphLaunch", "a graph launch into a capture (not emulated)");
    if (s->legacy)
        if (int r = legacy_implicit(s->ctx, "cuGraphLaunch")) return r;
    for (const Node& n : e->nodes)
        push_work(s, n.what, [fn = n.bind()] {
            count("graph_nodes_run");
            fn();
        });
    count("graph_launches");
    return SI_SUCCESS;
}

SI_API CUresult cuGraphDestroy(Graph* graph) {
    Guard g(lock_);
    if (int s = destroy_status()) return s;
    if (!graphs.count(graph)) return SI_ERROR_INVALID_HANDLE;
    graphs.erase(graph);
    delete graph;
    return current->sticky;
}

// Work already launched from the exec keeps its own copies of the nodes and still runs.
SI_API CUresult cuGraphExecDestroy(GraphExec* e) {
    Guard g(lock_);
    if (int s = destroy_status()) return s;
    if (!execs.count(e)) return SI_ERROR_INVALID_HANDLE;
    execs.erase(e);
    delete e;
    return current->sticky;
}

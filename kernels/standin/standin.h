// standin.h: what the CPU stand-in for libcuda.so.1 (cuda.cpp) exports to the stand-in for
// libcublas.so.12 (cublas.cpp). Neither library is NVIDIA's: they let the unchanged
// Java -> JCuda -> driver/cuBLAS path of io.jvae.backend.cuda.CudaBackend run on a machine without
// a GPU (docs/gpu.md, "The CPU stand-ins"). Device memory is host memory; a device pointer is a
// host address inside a registered allocation.
//
// Built by kernels/standin/build.sh; both files are C++17 compiled by the same g++, so
// std::function crosses the library boundary safely.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>

// CUDA driver status codes the stand-ins return (values from the CUDA driver API's CUresult).
enum StandinResult : int {
    SI_SUCCESS = 0,
    SI_ERROR_INVALID_VALUE = 1,
    SI_ERROR_OUT_OF_MEMORY = 2,
    SI_ERROR_NOT_INITIALIZED = 3,
    SI_ERROR_DEINITIALIZED = 4,
    SI_ERROR_NO_DEVICE = 100,
    SI_ERROR_INVALID_DEVICE = 101,
    SI_ERROR_INVALID_IMAGE = 200,
    SI_ERROR_INVALID_CONTEXT = 201,
    SI_ERROR_NO_BINARY_FOR_GPU = 209,
    SI_ERROR_INVALID_PTX = 218,
    SI_ERROR_UNSUPPORTED_PTX_VERSION = 222,
    SI_ERROR_INVALID_SOURCE = 300,
    SI_ERROR_NOT_FOUND = 500,
    SI_ERROR_NOT_READY = 600,
    SI_ERROR_ILLEGAL_ADDRESS = 700,
    SI_ERROR_LAUNCH_OUT_OF_RESOURCES = 701,
    SI_ERROR_INVALID_HANDLE = 400,
    SI_ERROR_ILLEGAL_STATE = 401,
    SI_ERROR_NOT_SUPPORTED = 801,
    SI_ERROR_STREAM_CAPTURE_UNSUPPORTED = 900,
    SI_ERROR_STREAM_CAPTURE_INVALIDATED = 901,
    SI_ERROR_STREAM_CAPTURE_MERGE = 902,
    SI_ERROR_STREAM_CAPTURE_UNMATCHED = 903,
    SI_ERROR_STREAM_CAPTURE_UNJOINED = 904,
    SI_ERROR_STREAM_CAPTURE_ISOLATION = 905,
    SI_ERROR_STREAM_CAPTURE_IMPLICIT = 906,
    SI_ERROR_CAPTURED_EVENT = 907,
    SI_ERROR_STREAM_CAPTURE_WRONG_THREAD = 908,
    SI_ERROR_UNKNOWN = 999,
};

extern "C" {
// The calling thread's context state: SI_SUCCESS when cuInit ran, a context is current on this
// thread and no sticky error is set; otherwise the code a driver call would return now.
int jvae_standin_context_status(void);

// Checks that [p, p + bytes) lies inside one live device allocation. On failure: prints one line
// "cuda stand-in: <what>: ..." to stderr naming the pointer, the range and the nearest allocation,
// sets the context's sticky SI_ERROR_ILLEGAL_ADDRESS (as a fault on a card does), and returns it.
// bytes == 0 checks nothing and returns SI_SUCCESS.
int jvae_standin_check_range(const void* p, size_t bytes, const char* what);

// Counts `delta` under `name` in the counters file (JVAE_STANDIN_COUNTERS), e.g. "cublas_gemm".
void jvae_standin_count(const char* name, long long delta);

// Failure injection: JVAE_STANDIN_FAIL=<function>[:<n>][,...] makes the n-th call (default 1st) of
// <function> fail. Returns 1 when this call of `function` must fail, else 0; counts the calls.
int jvae_standin_should_fail(const char* function);

// Reports a call to a function the stand-in does not implement (the generated stubs call this):
// prints one line to stderr once per function and returns SI_ERROR_NOT_SUPPORTED.
int jvae_standin_unsupported(const char* function);
}

// Puts `work` on `stream` (nullptr or CU_STREAM_LEGACY = the legacy default stream,
// CU_STREAM_PER_THREAD = 2 likewise treated as legacy here, or a live cuStreamCreate'd stream of the
// current context). Work runs in issue order per stream; a stream being captured records it into
// the graph instead, and a graph launch runs it again, so `work` must read everything that may
// change between replays when it runs, not when it is issued. Returns SI_SUCCESS or the error the
// driver would return: SI_ERROR_INVALID_HANDLE for an unknown or destroyed stream, the sticky error,
// the capture rules (901 on an invalidated capture, 906 for legacy-stream work while a blocking
// stream captures).
int jvae_standin_enqueue(void* stream, const char* what, std::function<void()> work);

// cublas.cpp: a CPU stand-in for NVIDIA's libcublas.so.12, the calls io.jvae.backend.cuda.CudaBackend
// makes through JCublas2. Not NVIDIA's library and not a GPU: it checks every argument the way
// cuBLAS documents it (CUBLAS_STATUS_INVALID_VALUE for a bad transpose, size or leading dimension),
// checks each matrix against its device allocation using its leading dimension (an overrun is
// CUDA_ERROR_ILLEGAL_ADDRESS, sticky, through the libcuda stand-in), queues the product on the
// handle's stream like a card (any live stream of the context: cublasSetStream; a capturing stream
// records it into the graph, and each graph launch runs it again, re-checking the matrices against
// live allocations), and computes it with the CPU BLAS (sgemm_/sgemv_ of OpenBLAS or
// whatever libblas.so.3 is, the same library the CPU backend calls; plain loops when none loads).
//
// In CUBLAS_TF32_TENSOR_OP_MATH mode, A and B are rounded to TF32 (10 mantissa bits, round to
// nearest, ties away from zero: PTX cvt.rna.tf32.f32) before the product, as tensor cores read
// them. Pointer mode host only for alpha/beta values read at call time; device pointer mode reads
// them when the work runs.
#include "standin.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <dlfcn.h>

#define BLAS_API extern "C" __attribute__((visibility("default")))

namespace {

// cublasStatus_t values (cublas_api.h)
enum Status : int {
    OK = 0,
    NOT_INITIALIZED = 1,
    ALLOC_FAILED = 3,
    INVALID_VALUE = 7,
    MAPPING_ERROR = 11,
    EXECUTION_FAILED = 13,
    NOT_SUPPORTED = 15,
};
enum Op : int { OP_N = 0, OP_T = 1, OP_C = 2 };
enum MathMode : int { DEFAULT_MATH = 0, TENSOR_OP_MATH = 1, PEDANTIC_MATH = 2, TF32_TENSOR_OP_MATH = 3 };
constexpr int DISALLOW_REDUCED_PRECISION = 16;

struct Handle {
    void* stream = nullptr;  // the legacy default stream until cublasSetStream
    int math = DEFAULT_MATH;
    int pointer_mode = 0;  // 0 host, 1 device
    void* workspace = nullptr;
    size_t workspace_bytes = 0;
};

// Never destroyed (cuda.cpp says why): a GEMM may still run while an exiting process destroys its statics.
std::mutex& handles_lock = *new std::mutex;
std::vector<std::unique_ptr<Handle>>& handles = *new std::vector<std::unique_ptr<Handle>>;

bool valid(Handle* h) {
    std::lock_guard<std::mutex> g(handles_lock);
    for (auto& p : handles)
        if (p.get() == h) return true;
    return false;
}

// ---- the CPU BLAS ----

using sgemm_t = void (*)(const char*, const char*, const int*, const int*, const int*, const float*, const float*, const int*,
                         const float*, const int*, const float*, float*, const int*, size_t, size_t);
using sgemv_t = void (*)(const char*, const int*, const int*, const float*, const float*, const int*, const float*, const int*,
                         const float*, float*, const int*, size_t);

// The CPU BLAS, in this order: $JVAE_STANDIN_BLAS; an OpenBLAS this process already has (the one
// jvae's CPU backend loaded: the same library, so GEMMs agree with the CPU exactly where the calls
// are the same); the copy of jvae's bundled OpenBLAS that build.sh puts beside the stand-ins
// (../openblas/, so no machine needs a BLAS package); the system's libopenblas.so.0, libblas.so.3.
struct CpuBlas {
    sgemm_t sgemm = nullptr;
    sgemv_t sgemv = nullptr;
    std::string from;
    bool use(void* h, const std::string& name) {
        if (!h) return false;
        sgemm = (sgemm_t)dlsym(h, "sgemm_");
        sgemv = (sgemv_t)dlsym(h, "sgemv_");
        if (sgemm && sgemv) {
            from = name;
            return true;
        }
        sgemm = nullptr;
        sgemv = nullptr;
        return false;
    }
    CpuBlas() {
        if (const char* env = getenv("JVAE_STANDIN_BLAS"))
            if (*env && use(dlopen(env, RTLD_NOW | RTLD_GLOBAL), env)) return;
        if (use(dlopen("libopenblas.so.0", RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD), "libopenblas.so.0 (already loaded)")) return;
        Dl_info self;
        if (dladdr((void*)&CpuBlas::cpu_blas_anchor, &self) && self.dli_fname) {
            std::string dir = self.dli_fname;
            dir = dir.substr(0, dir.rfind('/') + 1) + "../openblas/libopenblas.so.0";
            if (use(dlopen(dir.c_str(), RTLD_NOW | RTLD_GLOBAL), dir)) return;
        }
        for (const char* lib : {"libopenblas.so.0", "libblas.so.3"})
            if (use(dlopen(lib, RTLD_NOW | RTLD_GLOBAL), lib)) return;
        from = "none: reference loops";
    }
    static void cpu_blas_anchor() {}
};

const CpuBlas& cpu_blas() {
    static const CpuBlas& b = *new CpuBlas;  // never destroyed (cuda.cpp says why)
    return b;
}

// Element (i, j) of op(X) where X is column-major with leading dimension ld.
inline float at(const float* x, int ld, bool t, long i, long j) { return t ? x[j + i * (long)ld] : x[i + j * (long)ld]; }

// C = alpha op(A) op(B) + beta C; beta == 0 never reads C (BLAS and cuBLAS both say C need not be set).
void gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb, float beta, float* c,
          int ldc) {
    if (cpu_blas().sgemm) {
        char A = ta ? 'T' : 'N', B = tb ? 'T' : 'N';
        cpu_blas().sgemm(&A, &B, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc, 1, 1);
        return;
    }
    for (long j = 0; j < n; j++)
        for (long i = 0; i < m; i++) {
            float s = 0;
            for (long p = 0; p < k; p++) s += at(a, lda, ta, i, p) * at(b, ldb, tb, p, j);
            float& y = c[i + j * (long)ldc];
            y = beta == 0 ? alpha * s : alpha * s + beta * y;
        }
}

void gemv(bool ta, int m, int n, float alpha, const float* a, int lda, const float* x, int incx, float beta, float* y, int incy) {
    if (cpu_blas().sgemv) {
        char A = ta ? 'T' : 'N';
        cpu_blas().sgemv(&A, &m, &n, &alpha, a, &lda, x, &incx, &beta, y, &incy, 1);
        return;
    }
    long rows = ta ? n : m, cols = ta ? m : n;  // of op(A)
    long x0 = incx > 0 ? 0 : (1 - cols) * incx, y0 = incy > 0 ? 0 : (1 - rows) * incy;
    for (long i = 0; i < rows; i++) {
        float s = 0;
        for (long p = 0; p < cols; p++) s += at(a, lda, ta, i, p) * x[x0 + p * incx];
        float& out = y[y0 + i * incy];
        out = beta == 0 ? alpha * s : alpha * s + beta * out;
    }
}

// TF32: keep 10 mantissa bits, rounding to nearest with ties away from zero (cvt.rna.tf32.f32).
float tf32(float v) {
    if (!std::isfinite(v)) return v;
    uint32_t u;
    memcpy(&u, &v, 4);
    u = (u + 0x1000u) & 0xFFFFE000u;
    memcpy(&v, &u, 4);
    return v;
}

// A column-major rows x cols matrix with leading dimension ld, rounded to TF32, packed with ld = rows.
std::vector<float> tf32_copy(const float* x, int rows, int cols, int ld) {
    std::vector<float> out((size_t)rows * cols);
    for (long j = 0; j < cols; j++)
        for (long i = 0; i < rows; i++) out[i + j * (size_t)rows] = tf32(x[i + j * (long)ld]);
    return out;
}

// Bytes a column-major rows x cols operand with leading dimension ld spans (0 when empty).
size_t span(long rows, long cols, long ld) { return rows == 0 || cols == 0 ? 0 : 4 * (size_t)((cols - 1) * ld + rows); }

// Bytes a vector of n elements with stride inc spans.
size_t vspan(long n, long inc) { return n == 0 ? 0 : 4 * (size_t)((n - 1) * std::labs(inc) + 1); }

int op(int o, bool& t) {
    if (o != OP_N && o != OP_T && o != OP_C) return INVALID_VALUE;
    t = o != OP_N;  // real matrices: C (conjugate transpose) is T
    return OK;
}

// The status a handle call returns when the driver context is unusable (no context on this thread,
// or a sticky fault): cuBLAS reports a failed launch as EXECUTION_FAILED.
int context_status() {
    int s = jvae_standin_context_status();
    if (s == SI_SUCCESS) return OK;
    return s == SI_ERROR_ILLEGAL_ADDRESS ? EXECUTION_FAILED : NOT_INITIALIZED;
}

// Reads alpha/beta: now in host pointer mode; checked now and read at run time in device mode.
bool scalar(Handle* h, const float* p, float& now, const char* what) {
    if (!p) return false;
    if (h->pointer_mode == 0) {
        now = *p;
        return true;
    }
    return jvae_standin_check_range(p, 4, what) == SI_SUCCESS;
}

}  // namespace

// ---- handles ----

BLAS_API int cublasCreate_v2(Handle** out) {
    if (!out) return INVALID_VALUE;
    if (jvae_standin_should_fail("cublasCreate_v2")) return NOT_INITIALIZED;
    // No context check: the real cublasCreate initialises the CUDA runtime, which makes the device's
    // primary context current by itself (jvae info creates a handle without one). The calls that
    // queue work check the context.
    std::lock_guard<std::mutex> g(handles_lock);
    handles.push_back(std::make_unique<Handle>());
    *out = handles.back().get();
    jvae_standin_count("cublas_handles", 1);
    return OK;
}

BLAS_API int cublasDestroy_v2(Handle* h) {
    if (!valid(h)) return NOT_INITIALIZED;
    std::lock_guard<std::mutex> g(handles_lock);
    for (auto it = handles.begin(); it != handles.end(); ++it)
        if (it->get() == h) {
            handles.erase(it);
            break;
        }
    jvae_standin_count("cublas_handles", -1);
    return OK;
}

BLAS_API int cublasGetVersion_v2(Handle* h, int* v) {
    if (!valid(h)) return NOT_INITIALIZED;
    if (!v) return INVALID_VALUE;
    *v = 120604;  // the cuBLAS of CUDA 12.6 (12.6.4)
    return OK;
}

BLAS_API int cublasSetMathMode(Handle* h, int mode) {
    if (!valid(h)) return NOT_INITIALIZED;
    int base = mode & ~DISALLOW_REDUCED_PRECISION;
    if (base < DEFAULT_MATH || base > TF32_TENSOR_OP_MATH) return INVALID_VALUE;
    h->math = mode;
    return OK;
}

BLAS_API int cublasGetMathMode(Handle* h, int* mode) {
    if (!valid(h)) return NOT_INITIALIZED;
    if (!mode) return INVALID_VALUE;
    *mode = h->math;
    return OK;
}

BLAS_API int cublasSetStream_v2(Handle* h, void* stream) {
    if (!valid(h)) return NOT_INITIALIZED;
    h->stream = stream;
    return OK;
}

BLAS_API int cublasGetStream_v2(Handle* h, void** stream) {
    if (!valid(h)) return NOT_INITIALIZED;
    if (!stream) return INVALID_VALUE;
    *stream = h->stream;
    return OK;
}

BLAS_API int cublasSetPointerMode_v2(Handle* h, int mode) {
    if (!valid(h)) return NOT_INITIALIZED;
    if (mode != 0 && mode != 1) return INVALID_VALUE;
    h->pointer_mode = mode;
    return OK;
}

BLAS_API int cublasGetPointerMode_v2(Handle* h, int* mode) {
    if (!valid(h)) return NOT_INITIALIZED;
    if (!mode) return INVALID_VALUE;
    *mode = h->pointer_mode;
    return OK;
}

// cuBLAS needs a workspace for some GEMMs; one set by the caller is what a graph capture wants
// (cuBLAS would otherwise allocate it, which a capture forbids). It must be device memory.
BLAS_API int cublasSetWorkspace_v2(Handle* h, void* workspace, size_t bytes) {
    if (!valid(h)) return NOT_INITIALIZED;
    if (bytes && !workspace) return INVALID_VALUE;
    if (bytes && jvae_standin_check_range(workspace, bytes, "cublasSetWorkspace") != SI_SUCCESS) return EXECUTION_FAILED;
    h->workspace = workspace;
    h->workspace_bytes = bytes;
    return OK;
}

BLAS_API const char* cublasGetStatusName(int s) {
    switch (s) {
        case OK: return "CUBLAS_STATUS_SUCCESS";
        case NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
        case ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
        case INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
        case MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
        case EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
        case NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
        default: return "CUBLAS_STATUS_UNKNOWN";
    }
}

BLAS_API const char* cublasGetStatusString(int s) { return cublasGetStatusName(s); }

// ---- level 3 and 2 ----

BLAS_API int cublasSgemm_v2(Handle* h, int transa, int transb, int m, int n, int k, const float* alpha, const float* A, int lda,
                            const float* B, int ldb, const float* beta, float* C, int ldc) {
    if (!valid(h)) return NOT_INITIALIZED;
    bool ta = false, tb = false;
    if (op(transa, ta) || op(transb, tb)) return INVALID_VALUE;
    long ra = ta ? k : m, ca = ta ? m : k, rb = tb ? n : k, cb = tb ? k : n;  // stored shapes of A and B
    if (m < 0 || n < 0 || k < 0 || lda < std::max(1L, ra) || ldb < std::max(1L, rb) || ldc < std::max(1, m)) return INVALID_VALUE;
    if (int s = context_status()) return s;
    float al = 0, be = 0;
    if (!scalar(h, alpha, al, "cublasSgemm: alpha") || !scalar(h, beta, be, "cublasSgemm: beta")) return INVALID_VALUE;
    if (m == 0 || n == 0) return OK;
    if (k > 0 && (jvae_standin_check_range(A, span(ra, ca, lda), "cublasSgemm: A (lda)") ||
                  jvae_standin_check_range(B, span(rb, cb, ldb), "cublasSgemm: B (ldb)")))
        return EXECUTION_FAILED;
    if (jvae_standin_check_range(C, span(m, n, ldc), "cublasSgemm: C (ldc)")) return EXECUTION_FAILED;
    jvae_standin_count("cublas_gemm", 1);
    bool device_scalars = h->pointer_mode == 1, tf = (h->math & ~DISALLOW_REDUCED_PRECISION) == TF32_TENSOR_OP_MATH;
    int s = jvae_standin_enqueue(h->stream, "cublasSgemm", [=] {
        // again when it runs: a graph may replay it after a free
        if ((k > 0 && (jvae_standin_check_range(A, span(ra, ca, lda), "cublasSgemm (running): A") ||
                       jvae_standin_check_range(B, span(rb, cb, ldb), "cublasSgemm (running): B"))) ||
            jvae_standin_check_range(C, span(m, n, ldc), "cublasSgemm (running): C"))
            return;
        float a1 = device_scalars ? *alpha : al, b1 = device_scalars ? *beta : be;
        if (k == 0) {
            gemm(false, false, m, n, 0, a1, A, std::max(1, m), B, 1, b1, C, ldc);
        } else if (tf) {
            std::vector<float> a32 = tf32_copy(A, (int)ra, (int)ca, lda), b32 = tf32_copy(B, (int)rb, (int)cb, ldb);
            gemm(ta, tb, m, n, k, a1, a32.data(), (int)ra, b32.data(), (int)rb, b1, C, ldc);
        } else {
            gemm(ta, tb, m, n, k, a1, A, lda, B, ldb, b1, C, ldc);
        }
    });
    return s == SI_SUCCESS ? OK : s == SI_ERROR_INVALID_HANDLE ? INVALID_VALUE : EXECUTION_FAILED;
}

BLAS_API int cublasSgemv_v2(Handle* h, int trans, int m, int n, const float* alpha, const float* A, int lda, const float* x, int incx,
                            const float* beta, float* y, int incy) {
    if (!valid(h)) return NOT_INITIALIZED;
    bool t = false;
    if (op(trans, t) || m < 0 || n < 0 || lda < std::max(1, m) || incx == 0 || incy == 0) return INVALID_VALUE;
    if (int s = context_status()) return s;
    float al = 0, be = 0;
    if (!scalar(h, alpha, al, "cublasSgemv: alpha") || !scalar(h, beta, be, "cublasSgemv: beta")) return INVALID_VALUE;
    if (m == 0 || n == 0) return OK;
    long lx = t ? m : n, ly = t ? n : m;
    if (jvae_standin_check_range(A, span(m, n, lda), "cublasSgemv: A (lda)") ||
        jvae_standin_check_range(x, vspan(lx, incx), "cublasSgemv: x") || jvae_standin_check_range(y, vspan(ly, incy), "cublasSgemv: y"))
        return EXECUTION_FAILED;
    jvae_standin_count("cublas_gemv", 1);
    bool device_scalars = h->pointer_mode == 1;
    int s = jvae_standin_enqueue(h->stream, "cublasSgemv", [=] {
        if (jvae_standin_check_range(A, span(m, n, lda), "cublasSgemv (running): A") ||
            jvae_standin_check_range(x, vspan(lx, incx), "cublasSgemv (running): x") ||
            jvae_standin_check_range(y, vspan(ly, incy), "cublasSgemv (running): y"))
            return;
        gemv(t, m, n, device_scalars ? *alpha : al, A, lda, x, incx, device_scalars ? *beta : be, y, incy);
    });
    return s == SI_SUCCESS ? OK : s == SI_ERROR_INVALID_HANDLE ? INVALID_VALUE : EXECUTION_FAILED;
}

// The _64 variants take int64_t sizes; jvae calls the 32-bit ones. They are left to the generated
// stubs (not supported), so a call to one would say so rather than compute.

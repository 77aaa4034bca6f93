// jvae CUDA kernels: the element-wise half of the Backend contract (cuBLAS does the GEMMs).
//
// Every kernel mirrors the io.jvae.backend.CpuBackend method named in its comment: same formula,
// same argument order, same float operations, so the CPU executor is the spec and the emulation
// test (kernels/emulate/) checks each kernel against it element by element.
//
// Rules that keep this file testable without a GPU:
//  - element-wise only, grid-stride loops, no shared memory, no barriers, no atomics: any launch
//    shape gives the same result, and a sequential loop over the grid is a faithful emulation;
//  - sums over a batch or over features are done by cuBLAS (gemv with a ones vector); the loss kernels
//    only add within one thread (each lane of a column sums its own rows, see LOSS_LANES);
//  - indices are unsigned 32-bit (n < 2^31, so e + stride never wraps), sizes are int;
//  - built with --fmad=false: no contraction of a*b+c into FMA, so the arithmetic-only kernels
//    (optimizers, axpy, Gaussian NLL) round exactly like the Java loops. They are memory-bound,
//    so the extra instruction costs nothing measurable.
//
// Layout (column-major, see Backend.java): mu, lv are (L, B); eps, z are (L, B*J), sample j of
// input b in column j*B + b, so element e of a (L, B*J) tensor belongs to mu[e % (L*B)].

#ifndef JVAE_EMULATE
#define JVAE_DEV __device__ __forceinline__
#else
#define JVAE_DEV static inline
#endif

#define GRID_STRIDE(e, n) \
    for (unsigned e = blockIdx.x * blockDim.x + threadIdx.x; e < (unsigned)(n); e += blockDim.x * gridDim.x)

// ---- activations (codes = io.jvae.backend.Activation.code) ----
enum { ACT_IDENTITY = 0, ACT_RELU = 1, ACT_TANH = 2, ACT_LEAKY_RELU = 3, ACT_ELU = 4, ACT_SIGMOID = 5 };
#define LEAKY_SLOPE 0.01f

JVAE_DEV float act_apply(float x, int act) {
    switch (act) {
        case ACT_RELU: return x > 0.0f ? x : 0.0f;
        case ACT_TANH: return tanhf(x);
        case ACT_LEAKY_RELU: return x > 0.0f ? x : LEAKY_SLOPE * x;
        case ACT_ELU: return x > 0.0f ? x : expm1f(x);
        case ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
        default: return x;
    }
}

// derivative written in terms of the output y = act(x)
JVAE_DEV float act_deriv_from_output(float y, int act) {
    switch (act) {
        case ACT_RELU: return y > 0.0f ? 1.0f : 0.0f;
        case ACT_TANH: return 1.0f - y * y;
        case ACT_LEAKY_RELU: return y > 0.0f ? 1.0f : LEAKY_SLOPE;
        case ACT_ELU: return y > 0.0f ? 1.0f : y + 1.0f;
        case ACT_SIGMOID: return y * (1.0f - y);
        default: return 1.0f;
    }
}

// ---- Philox4x32-10 (Salmon et al., SC 2011); twin of io.jvae.backend.Philox ----
// Element e of a stream keyed by seed uses block q = e >> 2 (counter {q lo, q hi, 0, 0},
// key {seed lo, seed hi}) and lane e & 3 of its four outputs.
JVAE_DEV void philox4x32_10(unsigned c[4], unsigned k0, unsigned k1) {
    for (int round = 0; round < 10; round++) {
        if (round > 0) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
        unsigned long long p0 = (unsigned long long)0xD2511F53u * c[0];
        unsigned long long p1 = (unsigned long long)0xCD9E8D57u * c[2];
        unsigned hi0 = (unsigned)(p0 >> 32), lo0 = (unsigned)p0;
        unsigned hi1 = (unsigned)(p1 >> 32), lo1 = (unsigned)p1;
        unsigned n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
        c[0] = n0; c[1] = lo1; c[2] = n2; c[3] = lo0;
    }
}

JVAE_DEV void philox_block(unsigned long long seed, unsigned long long q, unsigned r[4]) {
    r[0] = (unsigned)q; r[1] = (unsigned)(q >> 32); r[2] = 0u; r[3] = 0u;
    philox4x32_10(r, (unsigned)seed, (unsigned)(seed >> 32));
}

// uniform [0,1) from the top 24 bits: exact in float
JVAE_DEV float philox_uniform(unsigned long long seed, unsigned long long e) {
    unsigned r[4];
    philox_block(seed, e >> 2, r);
    return (float)(r[e & 3] >> 8) * 5.9604644775390625e-8f; // 2^-24
}

// Box-Muller in double on the pair (r0, r1) for lanes 0/1, (r2, r3) for lanes 2/3
JVAE_DEV float philox_normal(unsigned long long seed, unsigned long long e) {
    unsigned r[4];
    philox_block(seed, e >> 2, r);
    unsigned lane = (unsigned)(e & 3);
    unsigned even = lane < 2 ? r[0] : r[2], odd = lane < 2 ? r[1] : r[3];
    double u1 = ((double)even + 1.0) * 2.3283064365386963e-10; // (0, 1], 2^-32
    double u2 = (double)odd * 2.3283064365386963e-10;           // [0, 1)
    double rad = sqrt(-2.0 * log(u1));
    double ang = 2.0 * 3.141592653589793 * u2;
    return (float)((lane & 1) == 0 ? rad * cos(ang) : rad * sin(ang));
}

// ---- the step block (CUDA Graphs) ----
// A captured training step is replayed with the kernel arguments it was captured with, so the
// values that change from step to step are read from device memory instead: `step`, when not
// null, points at the step block, a float array that one small copy refreshes before every graph
// launch (io.jvae.backend.cuda.CudaStepGraph). Slots (in 4-byte words; u64 values low word first):
#define STEP_NOISE_OFFSET 0    // u64: reparam_forward's Philox offset
#define STEP_BINARIZE_OFFSET 2 // u64: binarize's Philox offset
#define STEP_BETA 4            // f32: reparam_kl_backward's KL weight
#define STEP_BC1 5             // f32: adam_step's 1 - b1^t
#define STEP_BC2 6             // f32: adam_step's 1 - b2^t
#define STEP_LR 7              // f32: adam_step's and rmsprop_step's learning rate (a schedule changes it by epoch)
// words 8.. hold the batch's column indices, which gather_columns reads through its idx pointer.
// With step null every kernel uses its by-value arguments (eager launches, and the CPU twins).

JVAE_DEV unsigned long long step_u64(const float* step, int slot) {
    return (unsigned long long)__float_as_uint(step[slot]) | ((unsigned long long)__float_as_uint(step[slot + 1]) << 32);
}

extern "C" {

// CpuBackend.biasActForward: y = act(y + b[row]); y (rows, n/rows), b (rows)
__global__ void bias_act_forward(float* __restrict__ y, const float* __restrict__ b, int rows, int n, int act) {
    GRID_STRIDE(e, n) { y[e] = act_apply(y[e] + b[e % (unsigned)rows], act); }
}

// CpuBackend.actBackward: dy *= act'(y)
__global__ void act_backward(float* __restrict__ dy, const float* __restrict__ y, int n, int act) {
    GRID_STRIDE(e, n) { dy[e] = dy[e] * act_deriv_from_output(y[e], act); }
}

// CpuBackend.reparamForward: eps = N(0,1) from Philox(seed, offset + e); z = mu + exp(0.5 lv) eps
// mu, lv: per = L*B elements; eps, z: n = L*B*J elements; offset from the step block when step != null
__global__ void reparam_forward(const float* __restrict__ mu, const float* __restrict__ lv, float* __restrict__ eps,
                                float* __restrict__ z, int per, int n, unsigned long long seed, unsigned long long offset,
                                const float* __restrict__ step) {
    if (step) offset = step_u64(step, STEP_NOISE_OFFSET);
    GRID_STRIDE(e, n) {
        unsigned i = e % (unsigned)per;
        float ep = philox_normal(seed, offset + e);
        eps[e] = ep;
        z[e] = mu[i] + expf(0.5f * lv[i]) * ep;
    }
}

// CpuBackend.reparamKlBackward, per element i of (L, B), summing the J samples:
// dmu = sum_j dz + beta mu / B; dlv = sum_j dz eps 0.5 exp(0.5 lv) + beta 0.5 (exp(lv) - 1) / B;
// kl = -0.5 (1 + lv - mu^2 - exp(lv)) (skipped when kl is null); beta from the step block when step != null
__global__ void reparam_kl_backward(const float* __restrict__ mu, const float* __restrict__ lv, const float* __restrict__ eps,
                                    const float* __restrict__ dz, float* __restrict__ dmu, float* __restrict__ dlv,
                                    float* __restrict__ kl, int per, int samples, float beta, float invB,
                                    const float* __restrict__ step) {
    if (step) beta = step[STEP_BETA];
    GRID_STRIDE(i, per) {
        float m = mu[i], l = lv[i];
        float sd = expf(0.5f * l), var = expf(l);
        float gz = 0.0f, gze = 0.0f;
        for (int j = 0; j < samples; j++) {
            unsigned e = i + (unsigned)j * (unsigned)per;
            gz += dz[e];
            gze += dz[e] * eps[e];
        }
        dmu[i] = gz + beta * m * invB;
        dlv[i] = gze * 0.5f * sd + beta * 0.5f * (var - 1.0f) * invB;
        if (kl) kl[i] = -0.5f * (1.0f + l - m * m - var);
    }
}

// CpuBackend.klForward: kl = -0.5 (1 + lv - mu^2 - exp(lv))
__global__ void kl_forward(const float* __restrict__ mu, const float* __restrict__ lv, float* __restrict__ kl, int n) {
    GRID_STRIDE(i, n) {
        float m = mu[i], l = lv[i];
        kl[i] = -0.5f * (1.0f + l - m * m - expf(l));
    }
}

// ---- the loss end of a step: output bias, reconstruction loss, gradient and per-column sums in one pass ----
// Thread e is lane k = e % LOSS_LANES of column c = e / LOSS_LANES: it takes rows k, k + 32, ... of
// that column in increasing order, so the 32 lanes of a warp read 32 consecutive rows (coalesced),
// and writes the sum of its rows' losses to partial[e] (partial is (LOSS_LANES, cols)). No lane
// reads another's result: the rules above hold, and cuBLAS adds the 32 partials of a column (gemv).
// The per-element loss is never stored: the pass reads pre and x and writes grad, against the
// bias pass + loss/grad pass + loss-sum pass (7 passes over D x cols floats) it replaces.
#define LOSS_LANES 32
// At small batches a column's 32 lanes are few threads (32 x B x J: 4,096 at B = 128), each walking
// D / 32 rows: unrolling by 4 keeps four rows' loads in flight per thread. The adds still happen in
// row order, so the result does not change (the emulation ignores it).
#ifndef JVAE_EMULATE
#define UNROLL4 _Pragma("unroll 4")
#else
#define UNROLL4
#endif

// CpuBackend.sigmoidBce: l = pre + bias[row]; x (rows, xcols) repeated over the cols / xcols samples:
// loss = max(l,0) - l x + log1p(exp(-|l|)); grad = (sigmoid(l) - x) scale. One exp per element.
__global__ void sigmoid_bce(const float* __restrict__ pre, const float* __restrict__ bias, const float* __restrict__ x,
                            float* __restrict__ grad, float* __restrict__ partial, int rows, int xcols, int cols, float scale) {
    GRID_STRIDE(e, LOSS_LANES * cols) {
        unsigned c = e / LOSS_LANES, base = c * (unsigned)rows, xbase = (c % (unsigned)xcols) * (unsigned)rows;
        float s = 0.0f;
        UNROLL4 for (unsigned r = e % LOSS_LANES; r < (unsigned)rows; r += LOSS_LANES) {
            float l = pre[base + r] + bias[r], t = x[xbase + r];
            float ex = expf(-fabsf(l));
            s += fmaxf(l, 0.0f) - l * t + log1pf(ex);
            float sig = l >= 0.0f ? 1.0f / (1.0f + ex) : ex / (1.0f + ex);
            grad[base + r] = (sig - t) * scale;
        }
        partial[e] = s;
    }
}

// CpuBackend.gaussianNll: m = pre + bias[row]; loss = 0.5 (m - x)^2 + 0.5 ln(2 pi); grad = (m - x) scale;
// lanes and partials as sigmoid_bce
__global__ void gaussian_nll(const float* __restrict__ pre, const float* __restrict__ bias, const float* __restrict__ x,
                             float* __restrict__ grad, float* __restrict__ partial, int rows, int xcols, int cols, float scale) {
    GRID_STRIDE(e, LOSS_LANES * cols) {
        unsigned c = e / LOSS_LANES, base = c * (unsigned)rows, xbase = (c % (unsigned)xcols) * (unsigned)rows;
        float s = 0.0f;
        UNROLL4 for (unsigned r = e % LOSS_LANES; r < (unsigned)rows; r += LOSS_LANES) {
            float d = (pre[base + r] + bias[r]) - x[xbase + r];
            s += 0.5f * d * d + 0.9189385332046727f;
            grad[base + r] = d * scale;
        }
        partial[e] = s;
    }
}

// CpuBackend.gaussianNll with a learned log-variance s (per row): m = pre + bias[row], d = m - x,
// loss = 0.5 d^2 e^-s + 0.5 s + 0.5 ln(2 pi); grad = d e^-s scale; dlv = 0.5 (1 - d^2 e^-s) scale per element
// (a gemv sums dlv over the columns into the gradient of s); lanes and partials as sigmoid_bce
__global__ void gaussian_nll_var(const float* __restrict__ pre, const float* __restrict__ bias, const float* __restrict__ x,
                                 const float* __restrict__ logvar, float* __restrict__ grad, float* __restrict__ dlv,
                                 float* __restrict__ partial, int rows, int xcols, int cols, float scale) {
    GRID_STRIDE(e, LOSS_LANES * cols) {
        unsigned c = e / LOSS_LANES, base = c * (unsigned)rows, xbase = (c % (unsigned)xcols) * (unsigned)rows;
        float s = 0.0f;
        UNROLL4 for (unsigned r = e % LOSS_LANES; r < (unsigned)rows; r += LOSS_LANES) {
            float d = (pre[base + r] + bias[r]) - x[xbase + r], lv = logvar[r];
            float iv = expf(-lv), q = d * d * iv;
            s += 0.5f * q + 0.5f * lv + 0.9189385332046727f;
            grad[base + r] = d * iv * scale;
            dlv[base + r] = 0.5f * (1.0f - q) * scale;
        }
        partial[e] = s;
    }
}

// CpuOptimizer.adamRange (PyTorch form), on g' = g + decay p (L2 weight decay fused in; decay null: g' = g):
// m = b1 m + (1-b1) g'; v = b2 v + (1-b2) g'^2; p -= lr (m / bc1) / (sqrt(v / bc2) + eps);
// bc1, bc2 from the step block when step != null
__global__ void adam_step(float* __restrict__ p, const float* __restrict__ g, float* __restrict__ m, float* __restrict__ v,
                          int n, float lr, float b1, float b2, float eps, float bc1, float bc2, const float* __restrict__ step,
                          const float* __restrict__ decay) {
    if (step) { bc1 = step[STEP_BC1]; bc2 = step[STEP_BC2]; lr = step[STEP_LR]; }
    GRID_STRIDE(i, n) {
        float gi = g[i];
        if (decay) gi = gi + decay[i] * p[i];
        float mi = b1 * m[i] + (1.0f - b1) * gi;
        float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= lr * (mi / bc1) / (sqrtf(vi / bc2) + eps);
    }
}

// CpuOptimizer.rmspropRange (Keras form), on g' = g + decay p (decay null: g' = g):
// ms = rho ms + (1-rho) g'^2; p -= lr g' / (sqrt(ms) + eps)
__global__ void rmsprop_step(float* __restrict__ p, const float* __restrict__ g, float* __restrict__ ms, int n,
                             float lr, float rho, float eps, const float* __restrict__ decay, const float* __restrict__ step) {
    if (step) lr = step[STEP_LR];
    GRID_STRIDE(i, n) {
        float gi = g[i];
        if (decay) gi = gi + decay[i] * p[i];
        float si = rho * ms[i] + (1.0f - rho) * gi * gi;
        ms[i] = si;
        p[i] -= lr * gi / (sqrtf(si) + eps);
    }
}

// CpuBackend.axpy: y += alpha x
__global__ void axpy(float* __restrict__ y, const float* __restrict__ x, int n, float alpha) {
    GRID_STRIDE(i, n) { y[i] += alpha * x[i]; }
}

// CpuBackend.gatherColumns: dst[:, j] = src[:, idx[j]]; n = rows * count elements of dst.
// An index outside [0, cols) writes NaN, so a bad index list surfaces as a NaN loss, not a fault.
__global__ void gather_columns(const float* __restrict__ src, const int* __restrict__ idx, float* __restrict__ dst,
                               int rows, int cols, int n) {
    GRID_STRIDE(e, n) {
        unsigned j = e / (unsigned)rows, r = e % (unsigned)rows;
        int c = idx[j];
        dst[e] = (c >= 0 && c < cols) ? src[(unsigned long long)c * (unsigned)rows + r] : __int_as_float(0x7fc00000);
    }
}

// CpuBackend.binarize: x = uniform(seed, offset + e) < x ? 1 : 0
__global__ void binarize(float* __restrict__ x, int n, unsigned long long seed, unsigned long long offset,
                         const float* __restrict__ step) {
    if (step) offset = step_u64(step, STEP_BINARIZE_OFFSET);
    GRID_STRIDE(e, n) { x[e] = philox_uniform(seed, offset + e) < x[e] ? 1.0f : 0.0f; }
}

// CpuBackend.normal: out = N(0,1) from Philox(seed, offset + e)
__global__ void normal_fill(float* __restrict__ out, int n, unsigned long long seed, unsigned long long offset) {
    GRID_STRIDE(e, n) { out[e] = philox_normal(seed, offset + e); }
}

// ---- IWAE (Burda, Grosse, Salakhutdinov 2016) ----

// CpuBackend.logPriorRatio: out = 0.5 (eps^2 + lv - z^2), log p(z) - log q(z|x) per element;
// lv: per = L*B elements, eps, z, out: n = L*B*K
__global__ void log_prior_ratio(const float* __restrict__ lv, const float* __restrict__ eps, const float* __restrict__ z,
                                float* __restrict__ out, int per, int n) {
    GRID_STRIDE(e, n) {
        float ep = eps[e], zz = z[e];
        out[e] = 0.5f * (ep * ep + lv[e % (unsigned)per] - zz * zz);
    }
}

// CpuBackend.iwaeWeights, one thread per input i of b, looping over its K samples (columns k*b + i):
// a_k = d - rec; w = exp(a_k - max) / sum; lse = max + log(sum) - log(K)
__global__ void iwae_weights(const float* __restrict__ rec, const float* __restrict__ d, float* __restrict__ w,
                             float* __restrict__ lse, int b, int samples) {
    GRID_STRIDE(i, b) {
        float m = __int_as_float(0xff800000); // -inf
        for (int k = 0; k < samples; k++) m = fmaxf(m, d[k * b + i] - rec[k * b + i]);
        float sum = 0.0f;
        for (int k = 0; k < samples; k++) {
            float e = expf(d[k * b + i] - rec[k * b + i] - m);
            w[k * b + i] = e;
            sum += e;
        }
        for (int k = 0; k < samples; k++) w[k * b + i] /= sum;
        lse[i] = m + logf(sum) - logf((float)samples);
    }
}

// CpuBackend.scaleColumns: y[:, j] *= alpha s[j]; y has `rows` rows, n elements
__global__ void scale_columns(float* __restrict__ y, const float* __restrict__ s, int rows, int n, float alpha) {
    GRID_STRIDE(e, n) { y[e] *= alpha * s[e / (unsigned)rows]; }
}

// CpuBackend.addScaledColumns: y[:, j] += alpha s[j] x[:, j]
__global__ void add_scaled_columns(float* __restrict__ y, const float* __restrict__ x, const float* __restrict__ s,
                                   int rows, int n, float alpha) {
    GRID_STRIDE(e, n) { y[e] += alpha * s[e / (unsigned)rows] * x[e]; }
}

} // extern "C"

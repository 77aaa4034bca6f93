// host_cuda.h: just enough CUDA for g++ to compile kernels/vae_kernels.cu as plain C++.
// Built with: g++ -std=c++17 -O2 -ffp-contract=off -DJVAE_EMULATE -include host_cuda.h
//
// The kernels are element-wise grid-stride loops with no shared memory, barriers or atomics, so
// running every (block, thread) of the grid one after another in a loop computes exactly what
// the GPU computes, whatever the launch shape. CUDA's float math functions map to the C library
// ones (expf, log1pf, tanhf, ...); their ulp differences are what the emulation test tolerates.
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>

struct dim3 {
    unsigned x, y, z;
};

// the launch coordinates the kernels read, set by launch() below
static dim3 threadIdx, blockIdx, blockDim, gridDim;

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline

static inline float __int_as_float(int i) {
    float f;
    memcpy(&f, &i, sizeof f);
    return f;
}

static inline unsigned __float_as_uint(float f) {
    unsigned u;
    memcpy(&u, &f, sizeof u);
    return u;
}

// Runs kernel<<<grid, block>>>(args...) as nested loops over blocks and threads.
template <typename Kernel, typename... Args>
static void launch(unsigned grid, unsigned block, Kernel kernel, Args... args) {
    gridDim = dim3{grid, 1, 1};
    blockDim = dim3{block, 1, 1};
    for (unsigned b = 0; b < grid; b++) {
        blockIdx = dim3{b, 0, 0};
        for (unsigned t = 0; t < block; t++) {
            threadIdx = dim3{t, 0, 0};
            kernel(args...);
        }
    }
}

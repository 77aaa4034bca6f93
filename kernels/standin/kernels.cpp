// kernels.cpp: kernels/vae_kernels.cu compiled by g++ into the libcuda.so.1 stand-in, one "twin" per
// PTX entry. cuModuleGetFunction finds a twin by name and checks its C++ signature against the
// entry's .param list; cuLaunchKernel hands it the parameter bytes it copied at launch.
//
// This file alone is compiled with -fsanitize=thread, for the instrumentation only: every load and
// store the kernels make calls __tsan_readN / __tsan_writeN, which checks.cpp defines (no libtsan).
#include "emulate/host_cuda.h"
#include "vae_kernels.cu"

#include "standin/internal.h"

#include <cstring>
#include <tuple>
#include <utility>

namespace standin {
namespace {

// ---- the grid, in a shuffled block order ----

uint64_t splitmix(uint64_t& s) {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Runs body() once per (block, thread) of a 1-D grid: blocks in a random order (a card schedules
// them in no defined order), threads of a block one after another. The kernels have no barriers,
// so this is a legal schedule; the race check is what says whether the result depends on it.
template <typename Body>
void run_grid(unsigned grid, unsigned block, uint64_t seed, Body&& body) {
    for (const dim3* d : {&threadIdx, &blockIdx, &blockDim, &gridDim}) not_device_memory(d, sizeof *d);
    gridDim = dim3{grid, 1, 1};
    blockDim = dim3{block, 1, 1};
    std::vector<unsigned> order(grid);
    for (unsigned b = 0; b < grid; b++) order[b] = b;
    for (unsigned i = grid; i > 1; i--) std::swap(order[i - 1], order[splitmix(seed) % i]);  // Fisher-Yates
    for (unsigned b : order) {
        blockIdx = dim3{b, 0, 0};
        for (unsigned t = 0; t < block; t++) {
            threadIdx = dim3{t, 0, 0};
            enter_thread(b, t, b * block + t);
            body();
            leave_thread();
        }
    }
}

// ---- C++ parameter types and the PTX .param types they compile to ----

template <typename T> struct Ptx;
template <> struct Ptx<float*> { static constexpr const char* type = "u64"; static constexpr bool pointer = true; };
template <> struct Ptx<const float*> { static constexpr const char* type = "u64"; static constexpr bool pointer = true; };
template <> struct Ptx<int*> { static constexpr const char* type = "u64"; static constexpr bool pointer = true; };
template <> struct Ptx<const int*> { static constexpr const char* type = "u64"; static constexpr bool pointer = true; };
template <> struct Ptx<int> { static constexpr const char* type = "u32"; static constexpr bool pointer = false; };
template <> struct Ptx<float> { static constexpr const char* type = "f32"; static constexpr bool pointer = false; };
template <> struct Ptx<unsigned long long> { static constexpr const char* type = "u64"; static constexpr bool pointer = false; };

template <typename T>
T value_of(const std::vector<unsigned char>& bytes) {
    T v{};
    std::memcpy(&v, bytes.data(), sizeof v < bytes.size() ? sizeof v : bytes.size());
    return v;
}

template <typename... A, size_t... I>
void invoke(void (*kernel)(A...), const ArgBytes& args, unsigned grid, unsigned block, uint64_t seed, std::index_sequence<I...>) {
    std::tuple<A...> values{value_of<A>(args[I])...};
    run_grid(grid, block, seed, [&] { std::apply(kernel, values); });
}

template <typename... A>
constexpr auto indices(void (*)(A...)) { return std::index_sequence_for<A...>{}; }

template <auto Kernel>
void run(const ArgBytes& args, unsigned grid, unsigned block, uint64_t seed) {
    invoke(Kernel, args, grid, block, seed, indices(Kernel));
}

template <auto Kernel, typename... A>
Twin twin(const char* name, void (*)(A...)) {
    return Twin{name, {Ptx<A>::type...}, {Ptx<A>::pointer...}, &run<Kernel>};
}

#define TWIN(k) twin<k>(#k, k)

const std::vector<Twin>& twins() {
    // never destroyed (cuda.cpp says why): Func::twin points into it while a launch may still run at exit
    static const std::vector<Twin>& all = *new std::vector<Twin>{
        TWIN(bias_act_forward), TWIN(act_backward), TWIN(reparam_forward), TWIN(reparam_kl_backward),
        TWIN(kl_forward), TWIN(sigmoid_bce), TWIN(gaussian_nll), TWIN(gaussian_nll_var), TWIN(adam_step), TWIN(rmsprop_step),
        TWIN(axpy), TWIN(gather_columns), TWIN(binarize), TWIN(normal_fill), TWIN(log_prior_ratio),
        TWIN(iwae_weights), TWIN(scale_columns), TWIN(add_scaled_columns),
    };
    return all;
}

}  // namespace

const Twin* find_twin(const std::string& name) {
    for (const Twin& t : twins())
        if (t.name == name) return &t;
    return nullptr;
}

}  // namespace standin

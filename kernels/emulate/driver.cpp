// driver.cpp: runs the kernels of vae_kernels.cu (compiled for the CPU through host_cuda.h) on
// request, for io.jvae.backend.cuda.KernelEmulationTest. Binary protocol on stdin/stdout,
// little-endian, one request after another until EOF:
//   request : u32 nameLen, name, u32 grid, u32 block, u32 nargs, then per argument a type byte and
//             its value: 'f' u32 n + n floats | 'i' u32 n + n int32 | 'n' (null pointer)
//             | 'F' float | 'I' int32 | 'U' uint64
//   response: u32 status (0 ok, 1 unknown kernel, 2 wrong arguments), then for every 'f'/'i'
//             argument in order: u32 n + its n values after the kernel ran.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "../vae_kernels.cu"

struct Arg {
    char type;
    std::vector<float> f;
    std::vector<int> i;
    float F = 0;
    int I = 0;
    unsigned long long U = 0;
};

struct Args {
    std::vector<Arg>& a;
    Arg& at(size_t k, char t) {
        if (k >= a.size() || a[k].type != t) throw std::runtime_error("argument type");
        return a[k];
    }
    float* f(size_t k) {
        if (k < a.size() && a[k].type == 'n') return nullptr;
        return at(k, 'f').f.data();
    }
    int* i(size_t k) { return at(k, 'i').i.data(); }
    float F(size_t k) { return at(k, 'F').F; }
    int I(size_t k) { return at(k, 'I').I; }
    unsigned long long U(size_t k) { return at(k, 'U').U; }
    void count(size_t n) {
        if (a.size() != n) throw std::runtime_error("argument count");
    }
};

using Launcher = std::function<void(unsigned, unsigned, Args&)>;

static std::map<std::string, Launcher> kernels() {
    std::map<std::string, Launcher> k;
    k["bias_act_forward"] = [](unsigned g, unsigned b, Args& a) { a.count(5); launch(g, b, bias_act_forward, a.f(0), a.f(1), a.I(2), a.I(3), a.I(4)); };
    k["act_backward"] = [](unsigned g, unsigned b, Args& a) { a.count(4); launch(g, b, act_backward, a.f(0), a.f(1), a.I(2), a.I(3)); };
    k["reparam_forward"] = [](unsigned g, unsigned b, Args& a) { a.count(9); launch(g, b, reparam_forward, a.f(0), a.f(1), a.f(2), a.f(3), a.I(4), a.I(5), a.U(6), a.U(7), a.f(8)); };
    k["reparam_kl_backward"] = [](unsigned g, unsigned b, Args& a) { a.count(12); launch(g, b, reparam_kl_backward, a.f(0), a.f(1), a.f(2), a.f(3), a.f(4), a.f(5), a.f(6), a.I(7), a.I(8), a.F(9), a.F(10), a.f(11)); };
    k["kl_forward"] = [](unsigned g, unsigned b, Args& a) { a.count(4); launch(g, b, kl_forward, a.f(0), a.f(1), a.f(2), a.I(3)); };
    k["sigmoid_bce"] = [](unsigned g, unsigned b, Args& a) { a.count(9); launch(g, b, sigmoid_bce, a.f(0), a.f(1), a.f(2), a.f(3), a.f(4), a.I(5), a.I(6), a.I(7), a.F(8)); };
    k["gaussian_nll"] = [](unsigned g, unsigned b, Args& a) { a.count(9); launch(g, b, gaussian_nll, a.f(0), a.f(1), a.f(2), a.f(3), a.f(4), a.I(5), a.I(6), a.I(7), a.F(8)); };
    k["gaussian_nll_var"] = [](unsigned g, unsigned b, Args& a) { a.count(11); launch(g, b, gaussian_nll_var, a.f(0), a.f(1), a.f(2), a.f(3), a.f(4), a.f(5), a.f(6), a.I(7), a.I(8), a.I(9), a.F(10)); };
    k["adam_step"] = [](unsigned g, unsigned b, Args& a) { a.count(13); launch(g, b, adam_step, a.f(0), a.f(1), a.f(2), a.f(3), a.I(4), a.F(5), a.F(6), a.F(7), a.F(8), a.F(9), a.F(10), a.f(11), a.f(12)); };
    k["rmsprop_step"] = [](unsigned g, unsigned b, Args& a) { a.count(9); launch(g, b, rmsprop_step, a.f(0), a.f(1), a.f(2), a.I(3), a.F(4), a.F(5), a.F(6), a.f(7), a.f(8)); };
    k["axpy"] = [](unsigned g, unsigned b, Args& a) { a.count(4); launch(g, b, axpy, a.f(0), a.f(1), a.I(2), a.F(3)); };
    k["gather_columns"] = [](unsigned g, unsigned b, Args& a) { a.count(6); launch(g, b, gather_columns, a.f(0), a.i(1), a.f(2), a.I(3), a.I(4), a.I(5)); };
    k["binarize"] = [](unsigned g, unsigned b, Args& a) { a.count(5); launch(g, b, binarize, a.f(0), a.I(1), a.U(2), a.U(3), a.f(4)); };
    k["normal_fill"] = [](unsigned g, unsigned b, Args& a) { a.count(4); launch(g, b, normal_fill, a.f(0), a.I(1), a.U(2), a.U(3)); };
    k["log_prior_ratio"] = [](unsigned g, unsigned b, Args& a) { a.count(6); launch(g, b, log_prior_ratio, a.f(0), a.f(1), a.f(2), a.f(3), a.I(4), a.I(5)); };
    k["iwae_weights"] = [](unsigned g, unsigned b, Args& a) { a.count(6); launch(g, b, iwae_weights, a.f(0), a.f(1), a.f(2), a.f(3), a.I(4), a.I(5)); };
    k["scale_columns"] = [](unsigned g, unsigned b, Args& a) { a.count(5); launch(g, b, scale_columns, a.f(0), a.f(1), a.I(2), a.I(3), a.F(4)); };
    k["add_scaled_columns"] = [](unsigned g, unsigned b, Args& a) { a.count(6); launch(g, b, add_scaled_columns, a.f(0), a.f(1), a.f(2), a.I(3), a.I(4), a.F(5)); };
    return k;
}

static bool readAll(void* p, size_t n) { return fread(p, 1, n, stdin) == n; }
static void writeAll(const void* p, size_t n) { fwrite(p, 1, n, stdout); }

int main() {
    auto table = kernels();
    uint32_t nameLen;
    while (readAll(&nameLen, 4)) {
        std::string name(nameLen, '\0');
        uint32_t grid, block, nargs;
        if (!readAll(&name[0], nameLen) || !readAll(&grid, 4) || !readAll(&block, 4) || !readAll(&nargs, 4)) return 3;
        std::vector<Arg> args(nargs);
        for (auto& a : args) {
            if (!readAll(&a.type, 1)) return 3;
            uint32_t n = 0;
            switch (a.type) {
                case 'f': if (!readAll(&n, 4)) return 3; a.f.resize(n); if (n && !readAll(a.f.data(), 4 * (size_t)n)) return 3; break;
                case 'i': if (!readAll(&n, 4)) return 3; a.i.resize(n); if (n && !readAll(a.i.data(), 4 * (size_t)n)) return 3; break;
                case 'n': break;
                case 'F': if (!readAll(&a.F, 4)) return 3; break;
                case 'I': if (!readAll(&a.I, 4)) return 3; break;
                case 'U': if (!readAll(&a.U, 8)) return 3; break;
                default: return 4;
            }
        }
        uint32_t status = 0;
        auto it = table.find(name);
        if (it == table.end()) status = 1;
        else {
            try {
                Args view{args};
                it->second(grid, block, view);
            } catch (const std::exception&) {
                status = 2;
            }
        }
        writeAll(&status, 4);
        if (status == 0)
            for (auto& a : args) {
                if (a.type == 'f') { uint32_t n = a.f.size(); writeAll(&n, 4); writeAll(a.f.data(), 4 * (size_t)n); }
                if (a.type == 'i') { uint32_t n = a.i.size(); writeAll(&n, 4); writeAll(a.i.data(), 4 * (size_t)n); }
            }
        fflush(stdout);
    }
    return 0;
}

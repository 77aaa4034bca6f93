package io.jvae.backend.cuda;

import java.util.List;

/**
 * The one Java declaration of every kernel in kernels/vae_kernels.cu: its symbol and parameter
 * list in order. CudaBackend launches through these; PtxSignatureTest checks each against the
 * {@code .entry} signature parsed from the committed PTX, and the emulation test drives the
 * g++-compiled kernels with the same lists.
 */
public enum Kernel {
    BIAS_ACT_FORWARD("bias_act_forward", Param.F32_PTR /*y*/, Param.F32_PTR /*b*/, Param.I32 /*rows*/, Param.I32 /*n*/, Param.I32 /*act*/),
    ACT_BACKWARD("act_backward", Param.F32_PTR /*dy*/, Param.F32_PTR /*y*/, Param.I32 /*n*/, Param.I32 /*act*/),
    REPARAM_FORWARD("reparam_forward", Param.F32_PTR /*mu*/, Param.F32_PTR /*lv*/, Param.F32_PTR /*eps*/, Param.F32_PTR /*z*/,
            Param.I32 /*per*/, Param.I32 /*n*/, Param.U64 /*seed*/, Param.U64 /*offset*/, Param.F32_PTR /*step block or null*/),
    REPARAM_KL_BACKWARD("reparam_kl_backward", Param.F32_PTR /*mu*/, Param.F32_PTR /*lv*/, Param.F32_PTR /*eps*/, Param.F32_PTR /*dz*/,
            Param.F32_PTR /*dmu*/, Param.F32_PTR /*dlv*/, Param.F32_PTR /*kl or null*/, Param.I32 /*per*/, Param.I32 /*samples*/,
            Param.F32 /*beta*/, Param.F32 /*invB*/, Param.F32_PTR /*step block or null*/),
    KL_FORWARD("kl_forward", Param.F32_PTR /*mu*/, Param.F32_PTR /*lv*/, Param.F32_PTR /*kl*/, Param.I32 /*n*/),
    SIGMOID_BCE("sigmoid_bce", Param.F32_PTR /*pre*/, Param.F32_PTR /*bias*/, Param.F32_PTR /*x*/, Param.F32_PTR /*grad*/,
            Param.F32_PTR /*partial*/, Param.I32 /*rows*/, Param.I32 /*xcols*/, Param.I32 /*cols*/, Param.F32 /*scale*/),
    GAUSSIAN_NLL("gaussian_nll", Param.F32_PTR /*pre*/, Param.F32_PTR /*bias*/, Param.F32_PTR /*x*/, Param.F32_PTR /*grad*/,
            Param.F32_PTR /*partial*/, Param.I32 /*rows*/, Param.I32 /*xcols*/, Param.I32 /*cols*/, Param.F32 /*scale*/),
    GAUSSIAN_NLL_VAR("gaussian_nll_var", Param.F32_PTR /*pre*/, Param.F32_PTR /*bias*/, Param.F32_PTR /*x*/, Param.F32_PTR /*logvar*/,
            Param.F32_PTR /*grad*/, Param.F32_PTR /*dlv*/, Param.F32_PTR /*partial*/, Param.I32 /*rows*/, Param.I32 /*xcols*/,
            Param.I32 /*cols*/, Param.F32 /*scale*/),
    ADAM_STEP("adam_step", Param.F32_PTR /*p*/, Param.F32_PTR /*g*/, Param.F32_PTR /*m*/, Param.F32_PTR /*v*/, Param.I32 /*n*/,
            Param.F32 /*lr*/, Param.F32 /*b1*/, Param.F32 /*b2*/, Param.F32 /*eps*/, Param.F32 /*bc1*/, Param.F32 /*bc2*/, Param.F32_PTR /*step block or null*/,
            Param.F32_PTR /*decay or null*/),
    RMSPROP_STEP("rmsprop_step", Param.F32_PTR /*p*/, Param.F32_PTR /*g*/, Param.F32_PTR /*ms*/, Param.I32 /*n*/,
            Param.F32 /*lr*/, Param.F32 /*rho*/, Param.F32 /*eps*/, Param.F32_PTR /*decay or null*/, Param.F32_PTR /*step block or null*/),
    AXPY("axpy", Param.F32_PTR /*y*/, Param.F32_PTR /*x*/, Param.I32 /*n*/, Param.F32 /*alpha*/),
    GATHER_COLUMNS("gather_columns", Param.F32_PTR /*src*/, Param.I32_PTR /*idx*/, Param.F32_PTR /*dst*/, Param.I32 /*rows*/,
            Param.I32 /*cols*/, Param.I32 /*n*/),
    BINARIZE("binarize", Param.F32_PTR /*x*/, Param.I32 /*n*/, Param.U64 /*seed*/, Param.U64 /*offset*/, Param.F32_PTR /*step block or null*/),
    NORMAL_FILL("normal_fill", Param.F32_PTR /*out*/, Param.I32 /*n*/, Param.U64 /*seed*/, Param.U64 /*offset*/),
    LOG_PRIOR_RATIO("log_prior_ratio", Param.F32_PTR /*lv*/, Param.F32_PTR /*eps*/, Param.F32_PTR /*z*/, Param.F32_PTR /*out*/,
            Param.I32 /*per*/, Param.I32 /*n*/),
    IWAE_WEIGHTS("iwae_weights", Param.F32_PTR /*rec*/, Param.F32_PTR /*d*/, Param.F32_PTR /*w*/, Param.F32_PTR /*lse*/,
            Param.I32 /*b*/, Param.I32 /*samples*/),
    SCALE_COLUMNS("scale_columns", Param.F32_PTR /*y*/, Param.F32_PTR /*s*/, Param.I32 /*rows*/, Param.I32 /*n*/, Param.F32 /*alpha*/),
    ADD_SCALED_COLUMNS("add_scaled_columns", Param.F32_PTR /*y*/, Param.F32_PTR /*x*/, Param.F32_PTR /*s*/, Param.I32 /*rows*/,
            Param.I32 /*n*/, Param.F32 /*alpha*/);

    /** A kernel parameter and the PTX .param type it compiles to. */
    public enum Param {
        F32_PTR("u64"), I32_PTR("u64"), I32("u32"), F32("f32"), U64("u64");

        public final String ptxType;

        Param(String ptxType) {
            this.ptxType = ptxType;
        }

        public boolean pointer() {
            return this == F32_PTR || this == I32_PTR;
        }
    }

    public final String symbol;
    public final List<Param> params;

    Kernel(String symbol, Param... params) {
        this.symbol = symbol;
        this.params = List.of(params);
    }

    /** Threads per block for every launch: a multiple of the warp, enough to hide latency. */
    public static final int BLOCK = 256;

    /** Blocks for n elements with a grid-stride loop: ceil(n / BLOCK), capped (the loop covers the rest). */
    public static int grid(int n, int maxBlocks) {
        return (int) Math.max(1, Math.min(maxBlocks, ((long) n + BLOCK - 1) / BLOCK)); // long: n + BLOCK - 1 overflows int near 2^31 (F6)
    }
}

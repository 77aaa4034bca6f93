package io.jvae.backend;

import java.util.Locale;

/**
 * Activation functions. Codes are the {@code act} argument of the bias_act_forward and
 * act_backward kernels. Derivatives are written in terms of the output y, so backward needs no
 * copy of the pre-activation:
 * relu' = [y > 0]; tanh' = 1 - y^2; leaky' = y > 0 ? 1 : 0.01; elu' = y > 0 ? 1 : y + 1;
 * sigmoid' = y (1 - y); identity' = 1.
 */
public enum Activation {
    IDENTITY(0), RELU(1), TANH(2), LEAKY_RELU(3), ELU(4), SIGMOID(5);

    /** Negative slope of leaky relu (as Keras/PyTorch defaults: 0.01 in PyTorch). */
    public static final float LEAKY_SLOPE = 0.01f;

    public final int code;

    Activation(int code) {
        this.code = code;
    }

    public static Activation parse(String s) {
        String k = s.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        return switch (k) {
            case "identity", "linear", "none" -> IDENTITY;
            case "relu" -> RELU;
            case "tanh" -> TANH;
            case "leaky_relu", "leakyrelu", "lrelu" -> LEAKY_RELU;
            case "elu" -> ELU;
            case "sigmoid" -> SIGMOID;
            default -> throw new io.jvae.InvalidInputException(
                    "unknown activation '" + s + "' (relu, tanh, leaky-relu, elu, sigmoid, identity)");
        };
    }

    public String cliName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** y = act(x), computed in float exactly as the kernel does. */
    public float apply(float x) {
        return switch (this) {
            case IDENTITY -> x;
            case RELU -> x > 0f ? x : 0f;
            case TANH -> FastMath.tanh(x);
            case LEAKY_RELU -> x > 0f ? x : LEAKY_SLOPE * x;
            case ELU -> x > 0f ? x : FastMath.expm1(x);
            case SIGMOID -> (float) (1.0 / (1.0 + Math.exp(-x)));
        };
    }

    /** d act / dx written in terms of the output y. */
    public float derivFromOutput(float y) {
        return switch (this) {
            case IDENTITY -> 1f;
            case RELU -> y > 0f ? 1f : 0f;
            case TANH -> 1f - y * y;
            case LEAKY_RELU -> y > 0f ? 1f : LEAKY_SLOPE;
            case ELU -> y > 0f ? 1f : y + 1f;
            case SIGMOID -> y * (1f - y);
        };
    }
}

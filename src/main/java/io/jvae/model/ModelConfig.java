package io.jvae.model;

import io.jvae.backend.Activation;
import io.jvae.io.Json;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.jvae.InvalidInputException.require;

/**
 * The architecture: inputDim -> encoderHidden... -> (mu, logvar) of size latent; latent (+ label)
 * -> decoderHidden... -> inputDim. classes > 0 makes it a CVAE: the one-hot label is concatenated
 * to the encoder input and to z. Validated here so the CLI, presets, tests and checkpoints all
 * go through one check.
 */
public record ModelConfig(int inputDim, List<Integer> encoderHidden, int latent, List<Integer> decoderHidden,
                          Activation activation, Likelihood likelihood, int classes, Init init) {

    public ModelConfig {
        require(inputDim > 0, "input size must be > 0, got %d", inputDim);
        require(latent > 0, "--latent must be > 0, got %d", latent);
        require(latent <= 4096, "--latent must be <= 4096, got %d", latent);
        require(classes >= 0 && classes <= 4096, "classes must be in [0, 4096], got %d", classes);
        encoderHidden = List.copyOf(encoderHidden);
        decoderHidden = List.copyOf(decoderHidden);
        for (int h : encoderHidden) require(h > 0 && h <= 1 << 16, "hidden sizes must be in [1, 65536], got %d", h);
        for (int h : decoderHidden) require(h > 0 && h <= 1 << 16, "hidden sizes must be in [1, 65536], got %d", h);
        require(activation != null && likelihood != null && init != null, "activation, decoder and init must be set");
    }

    public boolean conditional() {
        return classes > 0;
    }

    /** "784-400-20 relu" style summary. */
    public String summary() {
        StringBuilder b = new StringBuilder().append(inputDim);
        for (int h : encoderHidden) b.append('-').append(h);
        b.append('-').append(latent);
        if (!decoderHidden.equals(List.copyOf(reverse(encoderHidden)))) {
            b.append(" dec");
            for (int h : decoderHidden) b.append('-').append(h);
        }
        b.append(' ').append(activation.cliName()).append(", ").append(likelihood.name().toLowerCase()).append(" decoder");
        if (conditional()) b.append(", conditional on ").append(classes).append(" classes");
        return b.toString();
    }

    private static List<Integer> reverse(List<Integer> l) {
        java.util.ArrayList<Integer> r = new java.util.ArrayList<>(l);
        java.util.Collections.reverse(r);
        return r;
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("input_dim", inputDim);
        m.put("encoder_hidden", encoderHidden);
        m.put("latent", latent);
        m.put("decoder_hidden", decoderHidden);
        m.put("activation", activation.cliName());
        m.put("decoder", likelihood.name().toLowerCase());
        m.put("classes", classes);
        m.put("init", init.name().toLowerCase());
        return m;
    }

    public String toJson() {
        return Json.write(toMap());
    }

    public static ModelConfig fromJson(String json) {
        Map<String, Object> m = Json.parseObject(json);
        return new ModelConfig((int) Json.getLong(m, "input_dim"), boxed(Json.getIntArray(m, "encoder_hidden")),
                (int) Json.getLong(m, "latent"), boxed(Json.getIntArray(m, "decoder_hidden")),
                Activation.parse(Json.getString(m, "activation")), Likelihood.parse(Json.getString(m, "decoder")),
                (int) Json.getLong(m, "classes"), Init.parse(Json.getString(m, "init")));
    }

    static List<Integer> boxed(int[] a) {
        return java.util.Arrays.stream(a).boxed().toList();
    }
}

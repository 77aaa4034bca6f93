/**
 * jvae's supported Java API: build, train, use, save and load a VAE or conditional VAE from a Java
 * program. {@link io.jvae.api.VaeModel#builder()} gives a {@link io.jvae.api.VaeBuilder} (model,
 * training settings, device, run folder); {@link io.jvae.api.VaeModel} fits on float[][] rows (or an
 * {@link io.jvae.data.Dataset}), encodes, decodes, samples, reconstructs, evaluates the ELBO, scores
 * with importance sampling, saves and loads safetensors checkpoints, and frees its device on close.
 *
 * <p>This package, {@link io.jvae.InvalidInputException} (bad input, an IllegalArgumentException),
 * {@link io.jvae.data.Dataset} and {@link io.jvae.train.TrainingDiverged} (thrown by fit) are the
 * surface that stays compatible. Every other package (io.jvae.backend, model, train, eval, cli, ...)
 * is the engine and the command line: public where one package of jvae calls another, not for
 * users, and free to change between versions.
 *
 * <pre>{@code
 * try (VaeModel vae = VaeModel.builder().inputSize(784).hidden(400).latent(20).epochs(10).build()) {
 *     FitResult r = vae.fit(train, null, test, null);     // rows of pixels in [0, 1]
 *     float[][] codes = vae.encode(test).mean();           // (n, 20)
 *     float[][] digits = vae.sample(16, 42L, 1.0, null);   // (16, 784)
 *     vae.save(Path.of("vae.safetensors"));
 * }
 * }</pre>
 */
package io.jvae.api;

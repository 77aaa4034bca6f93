package io.jvae.backend;

/**
 * Whole training steps recorded once and replayed (CUDA Graphs): the backend records the calls a
 * step makes the first time a batch size is seen and replays that record for every later step of
 * the same size. A replay repeats the calls with the arguments they were recorded with, so
 * everything that changes from step to step comes from a small block of device memory that
 * {@link #run} refreshes with one asynchronous copy before each replay: the {@link Values} and
 * the batch's column indices ({@link #indices}).
 *
 * <p>Inside a recorded step, the backend requires the step-varying arguments to be exactly the
 * step's {@link Values} (reparamForward's offset = noiseOffset, binarize's = binarizeOffset,
 * reparamKlBackward's beta, adamStep's bias corrections) and gatherColumns to read the indices of
 * {@link #indices}: anything else would be frozen into the record, so it is refused. Every other
 * argument of a recorded step (the learning rate, GEMM coefficients, sizes) is replayed as
 * recorded: it must not change from step to step for a given batch size (a learning-rate schedule
 * would have to move into the step block first).
 */
public interface StepReplay extends AutoCloseable {

    /**
     * What changes from one training step to the next. noiseOffset: the Philox offset of
     * reparamForward; binarizeOffset: that of binarize; beta: the KL weight reparamKlBackward gets
     * (0 for IWAE); bc1, bc2: Adam's 1 - b1^t, 1 - b2^t (1 for RMSprop, unused).
     */
    record Values(long noiseOffset, long binarizeOffset, float beta, float bc1, float bc2, float lr) {}

    /** The device-resident column indices of the current step's batch: b entries, refreshed by run. */
    Indices indices(int b);

    /**
     * One training step of b inputs whose columns are idx[off .. off + b): refreshes the step block
     * with v and those indices, records body (the step's backend calls, reading {@link #indices}(b))
     * the first time b is seen, and replays the record. Neither waits for the device nor allocates
     * once b's record exists.
     */
    void run(Values v, int[] idx, int off, int b, Runnable body);

    /** Records made so far (one per batch size). */
    int records();

    @Override
    void close();
}

package io.jvae.data;

import io.jvae.InvalidInputException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Per-feature statistics of the training set, applied to other sets, and their JSON for the checkpoint. */
class ScalingTest {
    // 3 examples x 3 features: feature 0 = 1, 2, 3; feature 1 constant; feature 2 = -4, 0, 10
    static final float[] X = {1, 5, -4, 2, 5, 0, 3, 5, 10};

    @Test
    void standardIsMeanAndPopulationStd() {
        Scaling s = Scaling.fit(Scaling.Kind.STANDARD, X, 3, 3, false);
        assertArrayEquals(new double[] {2, 5, 2}, s.shift());
        // population std (ddof 0, as scikit-learn): sqrt(2/3); constant -> 1; sqrt((36 + 4 + 64) / 3)
        assertArrayEquals(new double[] {Math.sqrt(2.0 / 3), 1, Math.sqrt(104.0 / 3)}, s.scale());
        float[] y = s.apply(X, 3, "t");
        assertNotSame(X, y, "the raw values stay as they were (figures show them)");
        for (int f = 0; f < 3; f++) {
            double mean = 0, sq = 0;
            for (int j = 0; j < 3; j++) mean += y[j * 3 + f] / 3.0;
            for (int j = 0; j < 3; j++) sq += (y[j * 3 + f] - mean) * (y[j * 3 + f] - mean) / 3;
            // float32 results of double arithmetic: each within 0.5 ulp(~1.2) = 6e-8, so mean and std within ~2e-7
            assertEquals(0, mean, 2e-7, "feature " + f);
            assertEquals(f == 1 ? 0 : 1, Math.sqrt(sq), 2e-7, "feature " + f + " (a constant feature stays 0)");
        }
    }

    @Test
    void minmaxMapsTheTrainingRangeToZeroOneAndClipsOnlyWhenAsked() {
        Scaling s = Scaling.fit(Scaling.Kind.MINMAX, X, 3, 3, false);
        assertArrayEquals(new double[] {1, 5, -4}, s.shift());
        assertArrayEquals(new double[] {2, 1, 14}, s.scale());
        assertArrayEquals(new float[] {0, 0, 0, 0.5f, 0, 4 / 14f, 1, 0, 1}, s.apply(X, 3, "t"));
        float[] test = {4, 6, -11}; // beyond the training range
        assertArrayEquals(new float[] {1.5f, 1, -0.5f}, s.apply(test, 3, "t"));
        Scaling clipped = Scaling.fit(Scaling.Kind.MINMAX, X, 3, 3, true);
        assertArrayEquals(new float[] {1, 1, 0}, clipped.apply(test, 3, "t"), "clipped to [0, 1] for a Bernoulli decoder");
        assertEquals("t has 2 features per example, the model's --scale minmax statistics have 3",
                assertThrows(InvalidInputException.class, () -> s.apply(new float[4], 2, "t")).getMessage());
        assertSame(X, Scaling.NONE.apply(X, 3, "t"));
    }

    @Test
    void jsonRoundTripIsExact() {
        float[] x = new float[40];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i) * 1e3f + 0.1f * i; // shifts and scales with all 53 bits in use
        for (Scaling.Kind k : Scaling.Kind.values())
            for (boolean clip : new boolean[] {false, true}) {
                if (k == Scaling.Kind.NONE && clip) continue;
                Scaling s = Scaling.fit(k, x, 4, 10, clip);
                Scaling back = Scaling.fromJson(s.toJson());
                assertEquals(s, back, k + " " + clip + ": " + s.toJson());
                assertArrayEquals(s.apply(x, 4, "t"), back.apply(x, 4, "t"));
            }
        assertEquals(Scaling.NONE, Scaling.fromJson(null), "a checkpoint without jvae.scaling: none");
        assertEquals("{\"kind\":\"none\"}", Scaling.NONE.toJson());
    }

    @Test
    void badJsonIsOneLine() {
        assertEquals("unknown --scale 'zscore' (standard, minmax, none)", assertThrows(InvalidInputException.class, () -> Scaling.fromJson("{\"kind\":\"zscore\"}")).getMessage());
        assertEquals("scaling 'standard': feature 1 has shift 0.0, scale 0.0",
                assertThrows(InvalidInputException.class, () -> Scaling.fromJson("{\"kind\":\"standard\",\"shift\":[0,0],\"scale\":[1,0]}")).getMessage());
        assertEquals("scaling 'minmax' needs shift and scale of one equal, non-zero length",
                assertThrows(InvalidInputException.class, () -> Scaling.fromJson("{\"kind\":\"minmax\",\"shift\":[0,0],\"scale\":[1]}")).getMessage());
        assertEquals("JSON: 'shift' must be an array of numbers",
                assertThrows(InvalidInputException.class, () -> Scaling.fromJson("{\"kind\":\"minmax\",\"scale\":[1]}")).getMessage());
        assertEquals("JSON: 'clip' must be true or false, got 1",
                assertThrows(InvalidInputException.class, () -> Scaling.fromJson("{\"kind\":\"minmax\",\"clip\":1,\"shift\":[0],\"scale\":[1]}")).getMessage());
    }
}

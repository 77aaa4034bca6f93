package io.jvae.eval;

/** The slides' manifold grid: z = Phi^-1(linspace(0.05, 0.95, n)) along two latent dimensions, the others 0. */
public final class LatentGrid {
    private LatentGrid() {}

    /** Inverse standard normal CDF (Acklam's rational approximation, |rel err| < 1.15e-9). */
    public static double normInv(double p) {
        if (!(p > 0 && p < 1)) throw new IllegalArgumentException("p must be in (0,1): " + p);
        double[] a = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
        double[] b = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01};
        double[] c = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
        double[] d = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00};
        double pl = 0.02425;
        if (p < pl) {
            double q = Math.sqrt(-2 * Math.log(p));
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        if (p > 1 - pl) return -normInv(1 - p);
        double q = p - 0.5, r = q * q;
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }

    /** The n grid values Phi^-1(linspace(0.05, 0.95, n)). */
    public static double[] axis(int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = normInv(n == 1 ? 0.5 : 0.05 + 0.9 * i / (n - 1));
        return v;
    }

    /**
     * Latent codes (L, n*n) for the grid: row r (top to bottom) varies dimension dy from high to
     * low, column c varies dimension dx from low to high; code r*n + c.
     */
    public static float[] codes(int latent, int n, int dx, int dy) {
        double[] ax = axis(n);
        float[] z = new float[latent * n * n];
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++) {
                int k = r * n + c;
                z[k * latent + dx] = (float) ax[c];
                z[k * latent + dy] = (float) ax[n - 1 - r];
            }
        return z;
    }
}

package io.jvae.train;

import io.jvae.InvalidInputException;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A learning rate by epoch, in stages: `E1:LR1,E2:LR2,...` trains E1 epochs at LR1, then E2 at
 * LR2, ...; after the last stage its rate stays. `iwae` is the IWAE paper's schedule (Burda,
 * Grosse, Salakhutdinov 2016, section 5): 3^i epochs at 1e-3 * 10^(-i/7) for i = 0..7, 3,280 epochs.
 * The spec string is what train configs, metrics and checkpoints keep, so --resume continues it.
 */
public record LrSchedule(String spec, List<Stage> stages) {
    public record Stage(int epochs, float lr) {}

    public static final LrSchedule NONE = new LrSchedule("", List.of());

    /** "" or "none": no schedule (the constant --lr). */
    public static LrSchedule parse(String spec) {
        String s = spec == null ? "" : spec.trim().toLowerCase(Locale.ROOT);
        if (s.isEmpty() || s.equals("none")) return NONE;
        List<Stage> st = new ArrayList<>();
        if (s.equals("iwae")) {
            for (int i = 0; i <= 7; i++) st.add(new Stage((int) Math.pow(3, i), (float) (1e-3 * Math.pow(10, -i / 7.0))));
            return new LrSchedule("iwae", List.copyOf(st));
        }
        StringBuilder canonical = new StringBuilder();
        for (String part : s.split(",", -1)) {
            String[] kv = part.trim().split(":", -1);
            if (kv.length != 2) throw bad(spec);
            try {
                int e = Integer.parseInt(kv[0].trim());
                float lr = Float.parseFloat(kv[1].trim());
                if (e < 1 || !Float.isFinite(lr) || lr <= 0) throw bad(spec);
                st.add(new Stage(e, lr));
                canonical.append(canonical.length() == 0 ? "" : ",").append(e).append(':').append(kv[1].trim());
            } catch (NumberFormatException ex) {
                throw bad(spec);
            }
        }
        return new LrSchedule(canonical.toString(), List.copyOf(st));
    }

    private static InvalidInputException bad(String spec) {
        return new InvalidInputException("--lr-schedule must be iwae, none, or EPOCHS:LR,EPOCHS:LR,... (e.g. 3:1e-3,9:5e-4), got '" + spec + "'");
    }

    public boolean none() {
        return stages.isEmpty();
    }

    /** The rate of epoch (1-based); constant when there is no schedule. */
    public float lrAt(int epoch, float constant) {
        if (stages.isEmpty()) return constant;
        int end = 0;
        for (Stage s : stages) {
            end += s.epochs();
            if (epoch <= end) return s.lr();
        }
        return stages.get(stages.size() - 1).lr();
    }

    /** Epochs the stages span. */
    public int epochs() {
        int e = 0;
        for (Stage s : stages) e += s.epochs();
        return e;
    }
}

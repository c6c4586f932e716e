package dev.kvshare.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Prompts the tests share with the README's examples. */
public final class TestPrompts {

    /**
     * The operator system prompt of the README's examples ({@code docs/examples/support-prompt.txt}): a support
     * bot's real-sized prompt, ~500 words (652 tokens of the bundled model's tokenizer).
     */
    public static final String SUPPORT = read(Path.of("docs/examples/support-prompt.txt"));

    private TestPrompts() {
    }

    private static String read(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package dev.kvshare;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * Only {@code api} knows OpenAI's request fields (docs/architecture.md, "Packages"): the layers below take plain
 * values and throw plain exceptions, and {@code api} says which field was at fault. Read from the sources, so a
 * field name used as a string below {@code api} fails here.
 */
class OpenAiVocabularyTest {

    private static final Path SOURCES = Path.of("src", "main", "java", "dev", "kvshare");

    /**
     * Request fields of OpenAI's chat and completions APIs. Left out on purpose: names other formats share and
     * the model layer reads in their own right — {@code messages} and {@code tools} (the chat template's
     * variables), {@code temperature} and {@code top_p} ({@code generation_config.json}), {@code user} and
     * {@code system} (chat roles), {@code model} (a metric tag, a {@code tokenizer.json} key).
     */
    private static final Set<String> OPENAI_FIELDS = Set.of("max_tokens", "max_completion_tokens", "response_format",
            "tool_choice", "stream_options", "parallel_tool_calls", "logprobs", "top_logprobs", "prompt_cache_key",
            "prompt_cache_retention", "frequency_penalty", "presence_penalty", "logit_bias", "stop", "n", "seed",
            "prompt", "stream", "echo", "suffix", "best_of", "ignore_eos", "top_k");

    private static final Pattern STRING = Pattern.compile("\"((?:[^\"\\\\\n]++|\\\\.)*+)\"");

    @Test
    void noOpenAiFieldNameIsUsedBelowTheApi() throws IOException {
        try (Stream<Path> files = Files.walk(SOURCES)) {
            List<String> found = files.filter(file -> file.toString().endsWith(".java"))
                    .filter(file -> !file.startsWith(SOURCES.resolve("api")))
                    .flatMap(OpenAiVocabularyTest::fieldNames).toList();
            assertThat(found).isEmpty();
        }
    }

    @Test
    void aFieldNameInAStringIsFound() {
        assertThat(fieldNamesIn("x", "throw new InvalidPromptException(\"bad\", \"max_tokens\");"))
                .containsExactly("x: \"max_tokens\"");
        assertThat(fieldNamesIn("x", "log.info(\"the prompt is long\");")).isEmpty();
    }

    private static Stream<String> fieldNames(Path file) {
        try {
            return fieldNamesIn(SOURCES.relativize(file).toString(), Files.readString(file)).stream();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> fieldNamesIn(String name, String source) {
        Matcher string = STRING.matcher(source);
        return string.results().map(match -> match.group(1)).filter(OPENAI_FIELDS::contains)
                .map(field -> name + ": \"" + field + "\"").toList();
    }
}

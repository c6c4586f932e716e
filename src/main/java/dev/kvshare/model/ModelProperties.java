package dev.kvshare.model;

import java.nio.file.Path;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code kvshare.model.*}: which decoder to load and how to run it.
 *
 * @param path             directory with the ONNX decoder and its tokenizer; unset runs the bundled model
 * @param file             the ONNX file inside {@code path}; unset detects it
 * @param name             the model id clients send and {@code /v1/models} lists; unset uses the directory name
 * @param device           {@code auto}, {@code cpu} or {@code cuda[:N]}
 * @param intraOpThreads   ONNX Runtime intra-op threads; 0 is one per core this process may use
 * @param prefillChunk     prompt tokens run per prefill pass; bounds the transient memory of long prompts
 * @param contextLength    overrides the context length read from the model's configuration; 0 keeps it
 * @param allowSpecialTokensInContent whether control tokens written in request text ({@code <|im_end|>}) become
 *                         control ids; off, only the chat template's own markup produces them
 */
@ConfigurationProperties("kvshare.model")
public record ModelProperties(
        Path path,
        String file,
        String name,
        @DefaultValue("auto") String device,
        @DefaultValue("0") int intraOpThreads,
        @DefaultValue("512") int prefillChunk,
        @DefaultValue("0") int contextLength,
        @DefaultValue("false") boolean allowSpecialTokensInContent) {

    public ModelProperties {
        if (prefillChunk < 1) {
            throw new IllegalArgumentException("kvshare.model.prefill-chunk must be at least 1");
        }
        if (intraOpThreads < 0 || contextLength < 0) {
            throw new IllegalArgumentException("kvshare.model thread and context settings must not be negative");
        }
    }
}

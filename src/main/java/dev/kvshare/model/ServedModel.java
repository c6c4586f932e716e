package dev.kvshare.model;

/**
 * Everything loaded for the model this instance serves.
 *
 * @param name              the model id of the API
 * @param executionProvider where the decoder runs, e.g. {@code CPU} or {@code CUDA:0}
 */
public record ServedModel(String name, ModelFiles files, ModelConfig config, DecoderModel decoder,
                          Tokenizer tokenizer, ChatPromptEncoder chatPrompts, String executionProvider) implements AutoCloseable {

    @Override
    public void close() throws Exception {
        try (tokenizer) {
            decoder.close();
        }
    }
}

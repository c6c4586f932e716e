package dev.kvshare.model;

/** A prompt certainly longer than the context, found without tokenizing it (see {@link Tokenizer#minTokens}). */
public class PromptTooLongException extends RuntimeException {

    public PromptTooLongException(long minTokens, int contextLength) {
        super("This model's maximum context length is " + contextLength + " tokens. However, your prompt has at "
                + "least " + minTokens + " tokens.");
    }
}

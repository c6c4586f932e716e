package dev.kvshare.generation;

/** Why generation ended, as OpenAI names it. */
public enum FinishReason {
    /** An end-of-sequence token or a stop string. */
    STOP,
    /** {@code max_tokens} or the context length was reached. */
    LENGTH;

    public String openAiName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}

package dev.kvshare.generation;

/** Why generation ended. */
public enum FinishReason {
    /** An end-of-sequence token or a stop string. */
    STOP,
    /**
     * {@code max_tokens} or the context length was reached, or a structured value was closed early to fit
     * within {@code max_tokens} (complete and valid, but shorter than the model would have made it).
     */
    LENGTH;

    /** The lower-case name meters, spans and logs use (the OpenAI API's finish reasons happen to match). */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}

package dev.kvshare.observability;

import io.micrometer.observation.Observation;

/** What happens to a sequence, as its observation's handlers hear of it; the details are in its context. */
enum SequenceEvent implements Observation.Event {
    /** Its slot is free: the wait for admission is over. */
    RUNNING("kvshare.running"),
    /** Prompt tokens were restored from the prompt cache. */
    RESTORED("kvshare.restored"),
    /** Prefill starts on the prompt tokens the cache did not hold. */
    PREFILLING("kvshare.prefilling"),
    /** Prefill is done and the first token's logits are out: decoding starts. */
    FIRST_TOKEN("kvshare.first_token"),
    /** A token was generated (an end-of-sequence token is not one). */
    TOKEN("kvshare.token"),
    /** The sequence finished on its own (a stop or the length). */
    FINISHED("kvshare.finished"),
    /** The request was cancelled: its client went away or read too slowly. */
    CANCELLED("kvshare.cancelled");

    private final String name;

    SequenceEvent(String name) {
        this.name = name;
    }

    @Override
    public String getName() {
        return name;
    }
}

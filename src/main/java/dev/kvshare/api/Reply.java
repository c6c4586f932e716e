package dev.kvshare.api;

import java.time.Instant;
import java.util.UUID;

/**
 * What every object of one completion response shares — whole or streamed in chunks: its id and creation
 * time, the model, the prompt, and the options that shape it.
 */
record Reply(String id, long created, String model, int[] prompt, boolean tokenIds, boolean includeUsage) {

    /** @param idPrefix {@code chatcmpl} or {@code cmpl}, as OpenAI names them */
    static Reply of(String idPrefix, String model, int[] prompt, SamplingFields request) {
        return new Reply(idPrefix + "-" + UUID.randomUUID().toString().replace("-", ""),
                Instant.now().getEpochSecond(), model, prompt, Boolean.TRUE.equals(request.returnTokenIds()),
                request.streamOptions() != null && Boolean.TRUE.equals(request.streamOptions().includeUsage()));
    }

    /** The prompt's ids when the client asked for them, else null (left out of the JSON). */
    int[] promptIds() {
        return tokenIds ? prompt : null;
    }

    /** {@code ids} when the client asked for token ids, else null. */
    int[] ids(int[] ids) {
        return tokenIds ? ids : null;
    }
}

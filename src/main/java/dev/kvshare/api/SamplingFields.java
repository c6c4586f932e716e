package dev.kvshare.api;

import java.util.Optional;

/** The generation fields that chat and text completion requests share. */
interface SamplingFields {

    String model();

    Integer n();

    Double temperature();

    Double topP();

    Integer topK();

    Long seed();

    Double presencePenalty();

    Double frequencyPenalty();

    /** A string, or an array of up to four strings. */
    Object stop();

    Boolean ignoreEos();

    Boolean stream();

    StreamOptions streamOptions();

    Boolean returnTokenIds();

    String cacheSalt();

    /** OpenAI's prompt-cache key: narrows sharing like {@code cache_salt} (docs/api.md). */
    String promptCacheKey();

    /** OpenAI's {@code in_memory} or {@code 24h}: checked, then left to the operator's settings (docs/api.md). */
    String promptCacheRetention();

    /** The first OpenAI parameter set in a way this service does not implement, if any. */
    Optional<String> unsupportedParameter();
}

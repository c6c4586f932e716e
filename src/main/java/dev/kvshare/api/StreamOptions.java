package dev.kvshare.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/** OpenAI {@code stream_options}: {@code include_usage} adds a last chunk carrying the usage. */
public record StreamOptions(@JsonProperty("include_usage") Boolean includeUsage) {
}

package dev.kvshare.api;

import com.fasterxml.jackson.annotation.JsonInclude;

/** The OpenAI error body: {@code {"error": {"message", "type", "param", "code"}}}. */
public record OpenAiError(Detail error) {

    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record Detail(String message, String type, String param, String code) {
    }

    public static OpenAiError of(String message, String type, String param, String code) {
        return new OpenAiError(new Detail(message, type, param, code));
    }
}

package dev.kvshare.api;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The OpenAI error body: {@code {"error": {"message", "type", "param", "code"}}}. A message or param that
 * quotes what the client sent is cut short, so that a megabyte-long bad value is not echoed back.
 */
public record OpenAiError(Detail error) {

    /** The most characters of one bad value an error quotes. */
    static final int MAX_QUOTED_CHARS = 200;
    /** The most characters of a whole message (a schema's problems are listed together). */
    static final int MAX_MESSAGE_CHARS = 1_000;

    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record Detail(String message, String type, String param, String code) {
    }

    public static OpenAiError of(String message, String type, String param, String code) {
        return new OpenAiError(new Detail(cut(message, MAX_MESSAGE_CHARS), type, cut(param, MAX_QUOTED_CHARS), code));
    }

    /** {@code value} as an error message quotes it: its first {@value #MAX_QUOTED_CHARS} characters. */
    static String quote(String value) {
        return cut(value, MAX_QUOTED_CHARS);
    }

    private static String cut(String text, int max) {
        if (text == null || text.length() <= max) {
            return text;
        }
        int end = Character.isHighSurrogate(text.charAt(max - 1)) ? max - 1 : max;
        return text.substring(0, end) + "… (" + (text.length() - end) + " more characters)";
    }
}

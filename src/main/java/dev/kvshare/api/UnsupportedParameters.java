package dev.kvshare.api;

import java.util.Arrays;
import java.util.Collection;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Helpers for the request records' {@code unsupportedParameter()}: a parameter whose silent absence would
 * change what the client gets (log-probabilities, tool calls, a JSON mode, several choices) is refused.
 */
final class UnsupportedParameters {

    private UnsupportedParameters() {
    }

    static Optional<String> when(String param, boolean set) {
        return set ? Optional.of(param) : Optional.empty();
    }

    @SafeVarargs
    static Optional<String> first(Optional<String>... checks) {
        return Arrays.stream(checks).flatMap(Optional::stream).findFirst();
    }

    /** Set to something other than null or an empty array/object. */
    static boolean present(Object value) {
        return value != null && !(value instanceof Collection<?> c && c.isEmpty())
                && !(value instanceof Map<?, ?> m && m.isEmpty());
    }

    /** Absent, or {@code "none"}/{@code "auto"}: with no functions declared, both mean plain text. */
    static boolean noneOrAuto(Object choice) {
        return choice == null || Objects.equals(choice, "none") || Objects.equals(choice, "auto");
    }
}

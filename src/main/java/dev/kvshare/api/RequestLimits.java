package dev.kvshare.api;

import java.util.List;

import dev.kvshare.generation.ChatLimits;
import dev.kvshare.model.ChatTurn;
import org.springframework.stereotype.Component;

/** Checks a request's sizes against {@code kvshare.limits.*} before anything is rendered or tokenized. */
@Component
class RequestLimits implements ChatLimits {

    private final LimitsProperties limits;

    RequestLimits(LimitsProperties limits) {
        this.limits = limits;
    }

    @Override
    public void checkChat(List<ChatTurn> turns) {
        if (turns.size() > limits.maxMessages()) {
            throw new InvalidRequestException("A request may hold at most " + limits.maxMessages() + " messages, not "
                    + turns.size(), "messages");
        }
        long total = 0;
        for (int i = 0; i < turns.size(); i++) {
            int chars = turns.get(i).content() == null ? 0 : turns.get(i).content().length();
            if (chars > limits.maxMessageChars()) {
                throw new InvalidRequestException("A message may hold at most " + limits.maxMessageChars()
                        + " characters; message " + i + " has " + chars, "messages[" + i + "].content");
            }
            total += chars;
        }
        checkTotal(total, "messages");
    }

    void checkPrompt(String prompt) {
        checkTotal(prompt.length(), "prompt");
    }

    private void checkTotal(long chars, String param) {
        if (chars > limits.maxRequestChars()) {
            throw new InvalidRequestException("A request may hold at most " + limits.maxRequestChars()
                    + " characters of prompt, not " + chars, param);
        }
    }

    /** {@code stop}: a string or an array of strings, within the configured count and length. */
    List<String> stops(Object stop) {
        List<String> stops = stop == null ? List.of()
                : stop instanceof String single ? List.of(single)
                : stop instanceof List<?> list && list.stream().allMatch(String.class::isInstance)
                        ? list.stream().map(String.class::cast).toList()
                        : null;
        if (stops == null || stops.size() > limits.maxStopStrings()) {
            throw new InvalidRequestException("stop must be a string or an array of at most "
                    + limits.maxStopStrings() + " strings", "stop");
        }
        for (String s : stops) {
            if (s.isEmpty() || s.length() > limits.maxStopChars()) {
                throw new InvalidRequestException("Each stop string must have 1 to " + limits.maxStopChars()
                        + " characters", "stop");
            }
        }
        return stops;
    }
}

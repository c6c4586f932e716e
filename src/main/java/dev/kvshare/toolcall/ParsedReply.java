package dev.kvshare.toolcall;

import java.util.List;

/**
 * A reply read for tool calls.
 *
 * @param content the text outside the calls; null when there is none
 * @param calls   the calls in the order written; empty for a plain answer
 */
public record ParsedReply(String content, List<Call> calls) {

    public ParsedReply {
        calls = List.copyOf(calls);
    }

    /** @param arguments the arguments object as JSON text, as OpenAI's {@code function.arguments} carries it */
    public record Call(String name, String arguments) {
    }
}

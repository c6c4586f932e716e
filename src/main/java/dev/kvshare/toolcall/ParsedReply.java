package dev.kvshare.toolcall;

import java.util.List;

/**
 * A reply read for tool calls.
 *
 * @param content  the text outside the calls; null when there is none
 * @param calls    the calls in the order written; empty for a plain answer
 * @param rejected why each call written that cannot be run was dropped from the content: {@code undeclared} or
 *                 {@code malformed} (see ToolCallParser)
 */
public record ParsedReply(String content, List<Call> calls, List<String> rejected) {

    public ParsedReply {
        calls = List.copyOf(calls);
        rejected = List.copyOf(rejected);
    }

    /** A reply with no call dropped. */
    public ParsedReply(String content, List<Call> calls) {
        this(content, calls, List.of());
    }

    /** @param arguments the arguments object as JSON text, as OpenAI's {@code function.arguments} carries it */
    public record Call(String name, String arguments) {
    }
}

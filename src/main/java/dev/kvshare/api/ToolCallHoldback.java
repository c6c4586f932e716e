package dev.kvshare.api;

import dev.kvshare.model.ToolCallFormat;

/**
 * How much of a streamed {@code tool_choice: auto} reply may go out as content before the reply is complete:
 * plain text streams, text that is or may still become a tool call waits for the parser at the end (the rule is
 * the format's: {@link ToolCallFormat#release}). What streams is always a prefix of the {@code content} that
 * {@link AssistantReply} reads from the whole reply, so a stream and a non-streamed reply of the same generation
 * say the same.
 */
final class ToolCallHoldback {

    private final ToolCallFormat format;
    private final StringBuilder reply = new StringBuilder();
    private int sent;
    /** Set once the rest of the reply may be a call: nothing more streams. */
    private boolean holding;

    ToolCallHoldback(ToolCallFormat format) {
        this.format = format;
    }

    /** Adds generated text; returns what may stream now (empty while it waits). */
    String offer(String delta) {
        reply.append(delta);
        int start = holding ? -1 : firstNonWhitespace();
        if (start < 0) {
            return "";
        }
        ToolCallFormat.Release release = format.release(reply, sent, start);
        holding = release.hold();
        int end = release.end();
        String text = reply.substring(sent, end);
        sent = end;
        return text;
    }

    /** What the parsed reply's content adds to what already streamed; null when nothing. */
    String rest(String content) {
        if (content == null || content.length() == sent) {
            return null;
        }
        return content.substring(sent);
    }

    private int firstNonWhitespace() {
        for (int i = 0; i < reply.length(); i++) {
            if (!Character.isWhitespace(reply.charAt(i))) {
                return i;
            }
        }
        return -1;
    }
}

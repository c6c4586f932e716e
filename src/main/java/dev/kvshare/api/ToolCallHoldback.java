package dev.kvshare.api;

import dev.kvshare.model.ToolCallFormat;

/**
 * How much of a streamed {@code tool_choice: auto} reply may go out as content before the reply is complete:
 * plain text streams, text that is or may still become a tool call waits for the parser at the end. What
 * streams is always a prefix of the {@code content} that {@link AssistantReply} reads from the whole reply, so
 * a stream and a non-streamed reply of the same generation say the same.
 */
final class ToolCallHoldback {

    private static final String MARKER = "<tool_call>";

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
        int end = format == ToolCallFormat.HERMES ? hermesEnd(start) : jsonEnd(start);
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

    /** Llama 3: a call is a reply that is one JSON object, so only a reply starting with '{' may be one. */
    private int jsonEnd(int start) {
        holding = reply.charAt(start) == '{';
        return holding ? sent : reply.length();
    }

    /**
     * Hermes: text before the first marker streams. A reply with calls has its content stripped, so leading
     * whitespace holds the whole reply and trailing whitespace waits for the next text (it would be cut if a
     * call followed); a tail that may grow into the marker waits too.
     */
    private int hermesEnd(int start) {
        if (start > 0) {
            holding = true;
            return sent;
        }
        int marker = reply.indexOf(MARKER, sent);
        holding = marker >= 0;
        int end = holding ? marker : reply.length() - tailStartingMarker();
        while (end > sent && Character.isWhitespace(reply.charAt(end - 1))) {
            end--;
        }
        return end;
    }

    private int tailStartingMarker() {
        for (int length = Math.min(MARKER.length() - 1, reply.length() - sent); length > 0; length--) {
            if (MARKER.startsWith(reply.substring(reply.length() - length))) {
                return length;
            }
        }
        return 0;
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

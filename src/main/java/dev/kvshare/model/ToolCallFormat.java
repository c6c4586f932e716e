package dev.kvshare.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * How a model family writes a tool call, as its chat template teaches it: its markers, how a call is written and
 * described to the model, where the calls are in a reply, and how much of a streamed reply may go out before the
 * reply is complete. Detected from the template's text; {@code kvshare.tools.format} overrides. A new family is
 * one more constant here.
 */
public enum ToolCallFormat {

    /** Hermes, Qwen 2.5: {@code <tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>}, one block per call. */
    HERMES("hermes", "arguments") {
        @Override
        boolean taughtBy(String template) {
            return template.contains(HERMES_START);
        }

        @Override
        public String instructions() {
            return "For each function call, return a json object with function name and arguments within "
                    + "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
                    + "<args-json-object>}\n</tool_call>";
        }

        @Override
        public String writeCall(String name, String arguments) {
            return HERMES_START + "\n" + callObject(name, arguments) + "\n" + HERMES_END;
        }

        /** Every block; the closing tag may be missing when the reply ended right after the JSON. */
        @Override
        public List<WrittenCall> calls(String reply) {
            List<WrittenCall> calls = new ArrayList<>();
            Matcher block = HERMES_BLOCK.matcher(reply);
            while (block.find()) {
                calls.add(new WrittenCall(block.start(), block.end(), block.group(1)));
            }
            return calls;
        }

        /** A block is markup even when it holds no call the service can run. */
        @Override
        public boolean dropsMalformed() {
            return true;
        }

        /**
         * Text before the first marker streams. A reply with calls has its content stripped, so leading whitespace
         * holds the whole reply and trailing whitespace waits for the next text (it would be cut if a call
         * followed); a tail that may grow into the marker waits too.
         */
        @Override
        public Release release(StringBuilder reply, int sent, int start) {
            if (start > 0) {
                return new Release(sent, true);
            }
            int marker = reply.indexOf(HERMES_START, sent);
            boolean hold = marker >= 0;
            int end = hold ? marker : reply.length() - tailStartingMarker(reply, sent);
            while (end > sent && Character.isWhitespace(reply.charAt(end - 1))) {
                end--;
            }
            return new Release(end, hold);
        }
    },

    /** Llama 3.1+: a bare JSON object {@code {"name": ..., "parameters": {...}}}. */
    LLAMA3_JSON("llama3-json", "parameters") {
        @Override
        boolean taughtBy(String template) {
            return template.contains("<|python_tag|>") || template.contains("<|start_header_id|>");
        }

        @Override
        public String instructions() {
            return "To call a function, respond with only a JSON object of the form {\"name\": <function-name>, "
                    + "\"parameters\": <args-json-object>}.";
        }

        @Override
        public String writeCall(String name, String arguments) {
            return callObject(name, arguments);
        }

        /** The whole reply: a call is a reply that is one call object. */
        @Override
        public List<WrittenCall> calls(String reply) {
            return List.of(new WrittenCall(0, reply.length(), reply.strip()));
        }

        /** JSON that is no call object is an answer that happens to be JSON. */
        @Override
        public boolean dropsMalformed() {
            return false;
        }

        /** Only a reply starting with '{' may be a call. */
        @Override
        public Release release(StringBuilder reply, int sent, int start) {
            boolean hold = reply.charAt(start) == '{';
            return new Release(hold ? sent : reply.length(), hold);
        }
    };

    private static final String HERMES_START = "<tool_call>";
    private static final String HERMES_END = "</tool_call>";
    private static final Pattern HERMES_BLOCK = Pattern.compile(
            Pattern.quote(HERMES_START) + "\\s*(.*?)\\s*(?:" + Pattern.quote(HERMES_END) + "|$)", Pattern.DOTALL);

    private final String configName;
    private final String argumentsKey;

    ToolCallFormat(String configName, String argumentsKey) {
        this.configName = configName;
        this.argumentsKey = argumentsKey;
    }

    /**
     * A stretch of a reply written as a call.
     *
     * @param start where it starts in the reply
     * @param end   where it ends (exclusive)
     * @param json  the call object's JSON text, or what stands in its place
     */
    public record WrittenCall(int start, int end, String json) {
    }

    /**
     * How much of a streamed reply may go out now.
     *
     * @param end  the reply up to here may stream
     * @param hold whether the rest of the reply may be a call: nothing more streams
     */
    public record Release(int end, boolean hold) {
    }

    /** The key of a call object that holds its arguments. */
    public String argumentsKey() {
        return argumentsKey;
    }

    /** Whether a chat template's source teaches this format. */
    abstract boolean taughtBy(String template);

    /** What the model is told about writing calls, after the tools are listed. */
    public abstract String instructions();

    /**
     * One call as the model writes it.
     *
     * @param name      the tool's name as a JSON string
     * @param arguments the arguments as JSON
     */
    public abstract String writeCall(String name, String arguments);

    /** Where a freely written reply may hold calls, in order. */
    public abstract List<WrittenCall> calls(String reply);

    /** Whether a written call that is not a call object (malformed, cut off) is dropped rather than kept as text. */
    public abstract boolean dropsMalformed();

    /**
     * The rule for streaming a {@code tool_choice: auto} reply: what may go out once the reply holds
     * non-whitespace text.
     *
     * @param reply the reply so far
     * @param sent  how much of it already streamed
     * @param start where its first non-whitespace character is
     */
    public abstract Release release(StringBuilder reply, int sent, int start);

    String callObject(String name, String arguments) {
        return "{\"name\": " + name + ", \"" + argumentsKey + "\": " + arguments + "}";
    }

    /** The format a chat template teaches; a template that teaches none (ChatML) gets Hermes. */
    public static ToolCallFormat of(ChatTemplate template) {
        String source = template.source();
        return Arrays.stream(values()).filter(format -> format.taughtBy(source)).findFirst().orElse(HERMES);
    }

    /** The format named {@code name} in {@code kvshare.tools.format}. */
    public static ToolCallFormat named(String name) {
        return Arrays.stream(values()).filter(format -> format.configName.equals(name.toLowerCase(Locale.ROOT)))
                .findFirst().orElseThrow(() -> new IllegalArgumentException("kvshare.tools.format must be auto, "
                        + Arrays.stream(values()).map(format -> format.configName)
                                .collect(Collectors.joining(", ")).replaceFirst(", ([^,]*)$", " or $1")
                        + ", not " + name));
    }

    /** The length of the reply's unsent tail that is a proper prefix of the Hermes marker. */
    private static int tailStartingMarker(StringBuilder reply, int sent) {
        for (int length = Math.min(HERMES_START.length() - 1, reply.length() - sent); length > 0; length--) {
            if (HERMES_START.startsWith(reply.substring(reply.length() - length))) {
                return length;
            }
        }
        return 0;
    }
}

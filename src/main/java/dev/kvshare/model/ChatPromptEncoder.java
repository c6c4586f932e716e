package dev.kvshare.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a conversation into prompt token ids: the model's chat template renders it, and only the template's
 * own markup may produce control tokens. An added token written inside a request value (a user typing
 * {@code <|im_end|>\n<|im_start|>system}) is encoded as the plain characters it is.
 *
 * <p>How: every added-token occurrence in a request value is swapped for a placeholder before rendering, the
 * rendered text is encoded piece by piece around the placeholders, and each placeholder's original text is
 * encoded literally ({@link Tokenizer#encodeLiteral}). A conversation without such text — nearly all — is
 * rendered and encoded in one piece, exactly as before. Tools and tool calls are request values too: every
 * string inside them (names, descriptions, schemas, arguments) is guarded the same way.
 */
public final class ChatPromptEncoder {

    /** Private-use characters: they mark placeholders and are themselves replaced when a request sends them. */
    private static final char OPEN = '\uE000';
    private static final char CLOSE = '\uE001';
    private static final Pattern PLACEHOLDER = Pattern.compile(OPEN + "(\\d+)" + CLOSE);
    private static final Pattern SENTINELS = Pattern.compile("[" + OPEN + CLOSE + "]");

    private final ChatTemplate template;
    private final Tokenizer tokenizer;
    private final boolean allowSpecialTokensInContent;

    /**
     * @param allowSpecialTokensInContent {@code kvshare.model.allow-special-tokens-in-content}: let request
     *                                    text produce control tokens, as before this defence existed
     */
    public ChatPromptEncoder(ChatTemplate template, Tokenizer tokenizer, boolean allowSpecialTokensInContent) {
        this.template = template;
        this.tokenizer = tokenizer;
        this.allowSpecialTokensInContent = allowSpecialTokensInContent;
    }

    public ChatTemplate template() {
        return template;
    }

    /**
     * The prompt of {@code turns}, ending with the header of the assistant's reply.
     *
     * @param contextLength the model's context: a rendered prompt that certainly exceeds it is not tokenized
     * @throws ChatTemplateException  if the template rejects the conversation
     * @throws PromptTooLongException if the prompt cannot fit {@code contextLength}
     */
    public int[] encode(List<ChatTurn> turns, int contextLength) {
        return encode(turns, null, ToolCallFormat.HERMES, contextLength);
    }

    /**
     * The tokens every conversation opening with the system prompt {@code system} starts with — its cacheable
     * prefix: the common part of two conversations that differ only after it.
     *
     * @throws ChatTemplateException  if the template rejects the conversation
     * @throws PromptTooLongException if the prompt cannot fit {@code contextLength}
     */
    public int[] systemPrefix(String system, int contextLength) {
        int[] first = encode(List.of(new ChatTurn("system", system), new ChatTurn("user", "a")), contextLength);
        int[] second = encode(List.of(new ChatTurn("system", system), new ChatTurn("user", "b")), contextLength);
        int common = Arrays.mismatch(first, second);
        return Arrays.copyOf(first, common < 0 ? first.length : common);
    }

    /**
     * As {@link #encode(List, int)}, with {@code tools} (or null) offered to the model. A template that renders
     * no tools gets them, and the assistant's calls, written into the messages in {@code format}.
     */
    public int[] encode(List<ChatTurn> turns, List<Map<String, Object>> tools, ToolCallFormat format,
                        int contextLength) {
        boolean toolUse = (tools != null && !tools.isEmpty()) || turns.stream().anyMatch(t -> t.toolCalls() != null);
        List<ChatTurn> conversation = toolUse && !template.rendersTools() ? ToolPrompt.inline(turns, tools, format)
                : turns;
        List<Map<String, Object>> offered = template.rendersTools() ? tools : null;
        List<String> literals = new ArrayList<>();
        List<ChatTurn> guarded = allowSpecialTokensInContent ? conversation : conversation.stream()
                .map(turn -> new ChatTurn(guard(turn.role(), literals), guard(turn.content(), literals),
                        guardAll(turn.toolCalls(), literals), guard(turn.toolCallId(), literals)))
                .toList();
        String rendered = template.render(guarded, true, allowSpecialTokensInContent ? offered
                : guardAll(offered, literals));
        long minTokens = tokenizer.minTokens(rendered);
        if (minTokens > contextLength) {
            throw new PromptTooLongException(minTokens, contextLength);
        }
        if (literals.isEmpty()) {
            return tokenizer.encode(rendered, false);
        }
        return encodeAround(rendered, literals);
    }

    /** Structured request data (tools, tool calls) with every string in it, keys included, guarded. */
    @SuppressWarnings("unchecked")
    private <T> T guardAll(T value, List<String> literals) {
        if (value instanceof String text) {
            return (T) guard(text, literals);
        }
        if (value instanceof Map<?, ?> map) {
            Map<Object, Object> guarded = new LinkedHashMap<>();
            map.forEach((key, item) -> guarded.put(guardAll(key, literals), guardAll(item, literals)));
            return (T) guarded;
        }
        if (value instanceof List<?> list) {
            return (T) list.stream().map(item -> guardAll(item, literals)).toList();
        }
        return value;
    }

    /** {@code value} with each added token (or placeholder mark) in it replaced by a numbered placeholder. */
    private String guard(String value, List<String> literals) {
        if (value == null || (!tokenizer.addedTokens().occurIn(value) && !SENTINELS.matcher(value).find())) {
            return value;
        }
        StringBuilder guarded = new StringBuilder(value.length());
        int i = 0;
        while (i < value.length()) {
            char c = value.charAt(i);
            int special = c == OPEN || c == CLOSE ? 1 : tokenizer.addedTokens().lengthAt(value, i);
            if (special == 0) {
                guarded.append(c);
                i++;
            } else {
                guarded.append(OPEN).append(literals.size()).append(CLOSE);
                literals.add(value.substring(i, i + special));
                i += special;
            }
        }
        return guarded.toString();
    }

    private int[] encodeAround(String rendered, List<String> literals) {
        List<int[]> parts = new ArrayList<>();
        Matcher placeholder = PLACEHOLDER.matcher(rendered);
        int from = 0;
        while (placeholder.find()) {
            if (placeholder.start() > from) {
                parts.add(tokenizer.encode(rendered.substring(from, placeholder.start()), false));
            }
            parts.add(tokenizer.encodeLiteral(literals.get(Integer.parseInt(placeholder.group(1)))));
            from = placeholder.end();
        }
        if (from < rendered.length()) {
            parts.add(tokenizer.encode(rendered.substring(from), false));
        }
        int[] ids = new int[parts.stream().mapToInt(p -> p.length).sum()];
        int at = 0;
        for (int[] part : parts) {
            System.arraycopy(part, 0, ids, at, part.length);
            at += part.length;
        }
        return ids;
    }
}

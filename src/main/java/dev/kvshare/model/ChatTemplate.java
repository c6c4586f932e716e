package dev.kvshare.model;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.JinjavaInterpreterFactory;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.loader.ResourceNotFoundException;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELException;

/**
 * Renders a conversation into the model's prompt with the model's own Jinja chat template, the way
 * Hugging Face {@code apply_chat_template} does, using Jinjava.
 *
 * <p>The template sees {@code messages} (maps with {@code role} and {@code content}),
 * {@code add_generation_prompt}, {@code bos_token}, {@code eos_token} ({@code ""} when the model has none),
 * {@code tools} (the request's function tools, or none) and {@code raise_exception(msg)}, which fails
 * rendering with a {@link ChatTemplateException}. Messages carry {@code tool_calls} and {@code tool_call_id}
 * where they have them.
 *
 * <p>A model without a chat template gets {@link #CHATML}, the ChatML format that Hugging Face used as its
 * default template ({@link #isFallback()} tells).
 *
 * <p>Instances are immutable and safe to use from many threads: every render gets its own interpreter and
 * parses the template again (Jinjava parse trees are not meant to be shared; about 0.3 ms for Qwen's).
 */
public final class ChatTemplate {

    /** The fallback: {@code <|im_start|>role\ncontent<|im_end|>\n} per message, then {@code <|im_start|>assistant\n}. */
    public static final String CHATML = """
            {% for message in messages %}\
            {{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}\
            {% endfor %}\
            {% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}""";

    private final RenderBudget budget;
    private final Jinjava jinjava;
    private final String template;
    private final String bosToken;
    private final String eosToken;
    private final boolean fallback;
    /**
     * Whether the template knows OpenAI's {@code developer} role. Most do not, and skip or misplace messages of
     * roles they do not know: there, developer messages are system messages, as OpenAI defines them.
     */
    private final boolean rendersDeveloperRole;

    private ChatTemplate(String template, String bosToken, String eosToken, boolean fallback, RenderBudget budget) {
        this.budget = budget;
        this.jinjava = newJinjava(budget);
        this.template = withoutTrailingNewline(template);
        this.bosToken = bosToken == null ? "" : bosToken;
        this.eosToken = eosToken == null ? "" : eosToken;
        this.fallback = fallback;
        this.rendersDeveloperRole = this.template.contains("developer");
        compile();
    }

    /**
     * The model's chat template, or {@link #CHATML} when it has none.
     *
     * @throws IllegalArgumentException if the template does not parse
     */
    public static ChatTemplate of(TokenizerConfig config) {
        return of(config, RenderBudget.DEFAULT);
    }

    /** As {@link #of(TokenizerConfig)}, each render bounded by {@code budget}. */
    public static ChatTemplate of(TokenizerConfig config, RenderBudget budget) {
        boolean fallback = config.chatTemplate() == null || config.chatTemplate().isBlank();
        return new ChatTemplate(fallback ? CHATML : config.chatTemplate(), config.bosToken(), config.eosToken(),
                fallback, budget);
    }

    /** Whether the model has no chat template of its own and {@link #CHATML} is used instead. */
    public boolean isFallback() {
        return fallback;
    }

    /** The template's Jinja source. */
    public String source() {
        return template;
    }

    /** Whether the template renders the {@code tools} it is given (Hugging Face tool-use templates do). */
    public boolean rendersTools() {
        return template.contains("tools");
    }

    /**
     * Renders {@code turns} into the prompt text.
     *
     * @param addGenerationPrompt whether to end with the header that starts the assistant's reply
     * @throws ChatTemplateException if the template rejects the conversation ({@code raise_exception})
     * @throws IllegalStateException if the template fails otherwise (an unknown function, a type error, ...)
     */
    public String render(List<ChatTurn> turns, boolean addGenerationPrompt) {
        return render(turns, addGenerationPrompt, null);
    }

    /**
     * As {@link #render(List, boolean)}, with {@code tools} ({@code {"type": "function", "function": {...}}}
     * each, or null) for the template to describe.
     */
    public String render(List<ChatTurn> turns, boolean addGenerationPrompt, List<Map<String, Object>> tools) {
        List<Map<String, Object>> messages = new ArrayList<>(turns.size());
        for (ChatTurn turn : turns) {
            Map<String, Object> message = new HashMap<>(); // content may be null, which Map.of rejects
            message.put("role", rendersDeveloperRole || !"developer".equals(turn.role()) ? turn.role() : "system");
            message.put("content", turn.content());
            if (turn.toolCalls() != null) {
                message.put("tool_calls", turn.toolCalls());
            }
            if (turn.toolCallId() != null) {
                message.put("tool_call_id", turn.toolCallId());
            }
            messages.add(message);
        }
        Map<String, Object> bindings = new HashMap<>();
        bindings.put("messages", messages);
        bindings.put("add_generation_prompt", addGenerationPrompt);
        bindings.put("bos_token", bosToken);
        bindings.put("eos_token", eosToken);
        bindings.put("tools", tools);

        RenderResult result = RenderBudget.within(budget, () -> jinjava.renderForResult(template, bindings));
        for (TemplateError error : result.getErrors()) {
            // Jinjava records errors and renders on; report the first, where Jinja would have stopped.
            if (error.getSeverity() != TemplateError.ErrorType.WARNING) {
                for (Throwable cause = error.getException(); cause != null; cause = cause.getCause()) {
                    if (cause instanceof ChatTemplateException rejected) {
                        throw rejected;
                    }
                }
                throw new IllegalStateException("The chat template failed: " + describe(error));
            }
        }
        return result.getOutput();
    }

    /**
     * Jinja drops one trailing newline of the template source; Jinjava would instead keep it or strip the
     * rendered output's last newline, which can be the generation prompt's.
     */
    private static String withoutTrailingNewline(String template) {
        if (template.endsWith("\r\n")) {
            return template.substring(0, template.length() - 2);
        }
        return template.endsWith("\n") ? template.substring(0, template.length() - 1) : template;
    }

    /** Parses the template once so that a syntax error fails at load time rather than on the first request. */
    private void compile() {
        JinjavaInterpreter interpreter = jinjava.newInterpreter();
        interpreter.parse(template);
        if (!interpreter.getErrors().isEmpty()) {
            throw new IllegalArgumentException("Invalid chat template: " + interpreter.getErrors().stream()
                    .map(ChatTemplate::describe).collect(Collectors.joining("; ")));
        }
    }

    private static String describe(TemplateError error) {
        return error.getMessage() + " (line " + error.getLineno() + ")";
    }

    private static Jinjava newJinjava(RenderBudget budget) {
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true) // as apply_chat_template configures Jinja
                .withLstripBlocks(true)
                .withKeepTrailingNewline(true) // see withoutTrailingNewline
                // Request values are data: with nested interpretation on, Jinjava would run `{{ ... }}` found
                // inside a message's content as template code.
                .withNestedInterpretationEnabled(false)
                // Bounds on what one render may build, so that no template (nor a request it renders) can
                // exhaust memory; RenderBudget bounds the work done.
                .withMaxOutputSize(budget.maxOutputChars())
                .withMaxStringLength(budget.maxOutputChars())
                .withMaxListSize(RenderBudget.MAX_COLLECTION_SIZE)
                .withMaxMapSize(RenderBudget.MAX_COLLECTION_SIZE)
                .withRangeLimit(RenderBudget.MAX_COLLECTION_SIZE)
                .withMaxRenderDepth(RenderBudget.MAX_DEPTH)
                .withMaxMacroRecursionDepth(RenderBudget.MAX_DEPTH)
                .withNodePreProcessor((node, interpreter) -> RenderBudget.charge())
                // Jinja's semantics where Jinjava's legacy ones differ, e.g. {{- x }} trims whitespace,
                // `not a in b` is `not (a in b)`, a list prints as Python prints it.
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseTrimmingForNotesAndExpressions(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withUseNaturalOperatorPrecedence(true)
                        .withEvaluateMapKeys(true)
                        .withIterateOverMapKeys(true)
                        .withUsePyishObjectMapper(true)
                        .withKeepNullableLoopValues(true)
                        .build())
                .withInterperterFactory(new JinjavaInterpreterFactory() {
                    @Override
                    public JinjavaInterpreter newInstance(Jinjava jinjava, Context context, JinjavaConfig config) {
                        return super.newInstance(jinjava, new StrictContext(context), config);
                    }
                })
                .withElResolver(new CompositeELResolver() {
                    {
                        add(new TemplateMethodAllowList());
                        add(new PythonStringMethods());
                        add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
                    }
                })
                .build();
        Jinjava jinjava = new Jinjava(config);
        // Like apply_chat_template's Jinja environment, which has no loader: nothing to include or import.
        jinjava.setResourceLocator((name, encoding, interpreter) -> {
            throw new ResourceNotFoundException("Chat templates cannot include other templates: " + name);
        });
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                ChatTemplateException.class, "raise", String.class));
        return jinjava;
    }

    /** Jinjava renders an unknown filter or test as nothing; Jinja rejects the template, and so does this. */
    private static final class StrictContext extends Context {

        StrictContext(Context parent) {
            super(parent);
        }

        @Override
        public Filter getFilter(String name) {
            return known(super.getFilter(name), "filter", name);
        }

        @Override
        public ExpTest getExpTest(String name) {
            return known(super.getExpTest(name), "test", name);
        }

        private static <T> T known(T found, String kind, String name) {
            if (found == null) {
                throw new ELException("No " + kind + " named '" + name + "'");
            }
            return found;
        }
    }

    /**
     * Python's {@code str} methods that chat templates call on strings ({@code content.strip()}), which
     * Java's {@link String} lacks or defines differently. Anything else falls through to Jinjava's resolvers.
     */
    private static final class PythonStringMethods extends MethodOnlyResolver {

        @Override
        public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes,
                             Object[] params) {
            if (!(base instanceof String s) || !(method instanceof String name)) {
                return null;
            }
            Object[] args = params == null ? new Object[0] : params;
            Object result = switch (name) {
                case "strip" -> args.length <= 1 ? strip(s, arg(args, 0), true, true) : null;
                case "lstrip" -> args.length <= 1 ? strip(s, arg(args, 0), true, false) : null;
                case "rstrip" -> args.length <= 1 ? strip(s, arg(args, 0), false, true) : null;
                case "startswith" -> args.length == 1 ? affixes(args[0]).stream().anyMatch(s::startsWith) : null;
                case "endswith" -> args.length == 1 ? affixes(args[0]).stream().anyMatch(s::endsWith) : null;
                case "split" -> args.length <= 2
                        ? split(s, arg(args, 0), args.length == 2 ? ((Number) args[1]).intValue() : -1) : null;
                case "lower" -> args.length == 0 ? s.toLowerCase(Locale.ROOT) : null;
                case "upper" -> args.length == 0 ? s.toUpperCase(Locale.ROOT) : null;
                case "title" -> args.length == 0 ? title(s) : null;
                default -> null; // e.g. replace(old, new): Java's String.replace does the same
            };
            if (result != null) {
                context.setPropertyResolved(true);
            }
            return result;
        }

        private static String arg(Object[] args, int i) {
            return i < args.length && args[i] != null ? args[i].toString() : null;
        }

        /** {@code startswith} takes one string or a tuple of them. */
        private static List<String> affixes(Object arg) {
            return arg instanceof Collection<?> many ? many.stream().map(String::valueOf).toList()
                    : List.of(String.valueOf(arg));
        }

        /** {@code chars == null} strips whitespace. */
        private static String strip(String s, String chars, boolean left, boolean right) {
            int start = 0;
            int end = s.length();
            while (left && start < end && stripped(s.charAt(start), chars)) {
                start++;
            }
            while (right && end > start && stripped(s.charAt(end - 1), chars)) {
                end--;
            }
            return s.substring(start, end);
        }

        private static boolean stripped(char c, String chars) {
            return chars == null ? isSpace(c) : chars.indexOf(c) >= 0;
        }

        /** Python's {@code str.isspace}, which unlike {@link Character#isWhitespace} includes no-break spaces. */
        private static boolean isSpace(char c) {
            return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
        }

        /** {@code sep == null} splits on runs of whitespace and drops empty parts; {@code maxSplit < 0}: no limit. */
        private static List<String> split(String s, String sep, int maxSplit) {
            List<String> parts = new ArrayList<>();
            if (sep == null) {
                int i = 0;
                while (true) {
                    while (i < s.length() && isSpace(s.charAt(i))) {
                        i++;
                    }
                    if (i == s.length()) {
                        return parts;
                    }
                    if (parts.size() == maxSplit) {
                        parts.add(s.substring(i));
                        return parts;
                    }
                    int start = i;
                    while (i < s.length() && !isSpace(s.charAt(i))) {
                        i++;
                    }
                    parts.add(s.substring(start, i));
                }
            }
            if (sep.isEmpty()) {
                throw new ELException("empty separator");
            }
            int from = 0;
            for (int at; parts.size() != maxSplit && (at = s.indexOf(sep, from)) >= 0; from = at + sep.length()) {
                parts.add(s.substring(from, at));
            }
            parts.add(s.substring(from));
            return parts;
        }

        /** Upper-cases the first letter of every word and lower-cases the rest. */
        private static String title(String s) {
            StringBuilder out = new StringBuilder(s.length());
            boolean inWord = false;
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                out.append(inWord ? Character.toLowerCase(c) : Character.toTitleCase(c));
                inWord = Character.isLetter(c);
            }
            return out.toString();
        }
    }
}

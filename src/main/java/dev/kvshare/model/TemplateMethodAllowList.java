package dev.kvshare.model;

import java.util.Map;
import java.util.Set;

import com.hubspot.jinjava.util.ForLoop;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELException;

/**
 * The only methods a chat template may call, as Hugging Face's immutable Jinja sandbox allows them: Python's
 * {@code str} methods, a dict's read methods and {@code loop.cycle}. Without it Jinjava would call any public
 * Java method of any object a template can reach ({@code 'a'.getClass()} and onwards). Also charges the
 * {@link RenderBudget} for each expression, since evaluating expressions is where a template spends its time.
 */
final class TemplateMethodAllowList extends MethodOnlyResolver {

    private static final Set<String> STRING_METHODS = Set.of("strip", "lstrip", "rstrip", "startswith",
            "endswith", "split", "lower", "upper", "title", "replace");
    private static final Set<String> MAP_METHODS = Set.of("get", "items", "keys", "values");
    private static final Set<String> LOOP_METHODS = Set.of("cycle");
    /** Where Jinjava's filters, tests and functions live: {@code x|trim} reaches here as a method call. */
    private static final String JINJAVA_LIBRARY = "com.hubspot.jinjava.lib.";

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        RenderBudget.charge();
        if (base == null) {
            return null; // a function call, not a method: Jinjava's own function mapper handles it
        }
        String name = String.valueOf(method);
        if (base.getClass().getName().startsWith(JINJAVA_LIBRARY)) {
            return null; // a filter, test or function of the template language itself, applied by Jinjava
        }
        Set<String> allowed = base instanceof CharSequence ? STRING_METHODS
                : base instanceof Map<?, ?> ? MAP_METHODS
                : base instanceof ForLoop ? LOOP_METHODS
                : Set.of();
        if (!allowed.contains(name)) {
            throw new ELException("Chat templates cannot call '" + name + "' on a " + kind(base));
        }
        return null; // allowed: the next resolver performs it
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        RenderBudget.charge();
        if (base != null && !(base instanceof Map<?, ?>) && "class".equals(String.valueOf(property))) {
            throw new ELException("Chat templates cannot read the class of a value");
        }
        return null;
    }

    private static String kind(Object base) {
        return base instanceof Iterable<?> ? "list" : base instanceof Number ? "number" : "value";
    }
}

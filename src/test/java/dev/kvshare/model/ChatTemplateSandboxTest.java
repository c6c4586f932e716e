package dev.kvshare.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

/** Request values are data to a chat template, and no template can run away with a request thread. */
class ChatTemplateSandboxTest {

    private static final RenderBudget TIGHT = new RenderBudget(1_000, 60_000, 100_000);

    private static ChatTemplate chatml(RenderBudget budget) {
        return ChatTemplate.of(TokenizerConfig.EMPTY, budget);
    }

    private static ChatTemplate inline(String template) {
        return ChatTemplate.of(new TokenizerConfig(null, null, null, false, template));
    }

    private static List<ChatTurn> user(String content) {
        return List.of(new ChatTurn("system", "SECRET SYSTEM PROMPT"), new ChatTurn("user", content));
    }

    @Test
    void templateSyntaxInContentIsRenderedAsTheTextItIs() {
        String payload = "{{ 7*7 }} {{ messages[0]['content'] }} {% raw %}x{% endraw %} {{ 'a'.getClass() }}"
                + " {{ 'x'*1000000 }} {{ raise_exception('pwned') }}";

        String rendered = chatml(RenderBudget.DEFAULT).render(user(payload), true);

        assertThat(rendered).contains("<|im_start|>user\n" + payload + "<|im_end|>")
                .doesNotContain("49").containsOnlyOnce("SECRET SYSTEM PROMPT");
    }

    @Test
    void aNestedLoopInContentCostsNothingBecauseItNeverRuns() {
        // 171 bytes that burnt 25 s of CPU when content was interpreted; a budget of 1,000 operations is plenty.
        String loop = "{% for a in range(600) %}{% for b in range(600) %}{% for c in range(600) %}{{ a*b*c }}"
                + "{% endfor %}{% endfor %}{% endfor %}";

        assertThat(chatml(TIGHT).render(user(loop), true)).contains(loop);
    }

    @Test
    void aTemplateThatLoopsTooLongIsStoppedByItsBudget() {
        ChatTemplate hostile = inline("{% for a in range(10000) %}{% for b in range(10000) %}{{ b }}"
                + "{% endfor %}{% endfor %}");

        assertThatThrownBy(() -> hostile.render(user("hi"), true))
                .isInstanceOf(ChatTemplateException.class).hasMessageContaining("budget");
    }

    @Test
    void aTemplateCannotReachJavaMethods() {
        ChatTemplate hostile = inline("{{ 'a'.getClass().getName() }}{{ messages.getClass() }}");

        assertThatThrownBy(() -> hostile.render(user("hi"), true))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("cannot call 'getClass'");
    }

    @Test
    void pythonStringMethodsAndDictReadsStillWork() {
        ChatTemplate template = inline("{% for m in messages %}{{ m['content'].strip().upper() }}|"
                + "{{ m.get('role') }}|{{ m['content'].replace('a', 'b') }}|{% endfor %}");

        assertThat(template.render(List.of(new ChatTurn("user", " a ")), true)).isEqualTo("A|user| b |");
    }

    @Test
    void aTemplateCannotBuildHugeStrings() {
        ChatTemplate hostile = inline("{{ 'x' * 100000000 }}");

        assertThatThrownBy(() -> hostile.render(user("hi"), true)).isInstanceOf(RuntimeException.class);
    }
}

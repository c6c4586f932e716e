package dev.kvshare.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import dev.kvshare.testsupport.TestModels;
import org.junit.jupiter.api.Test;

/** Golden outputs, checked against Python Jinja2 configured as {@code apply_chat_template} configures it. */
class ChatTemplateTest {


    private static ChatTemplate llama2() {
        return ChatTemplate.of(TokenizerConfig.read(TestModels.reference(TestModels.LLAMA).resolve("tokenizer_config.json")));
    }

    private static ChatTemplate fromResource(String name, String bos, String eos) throws IOException {
        try (InputStream in = ChatTemplateTest.class.getResourceAsStream("/templates/" + name)) {
            assertThat(in).as(name).isNotNull();
            return inline(new String(in.readAllBytes(), StandardCharsets.UTF_8), bos, eos);
        }
    }

    private static ChatTemplate inline(String template, String bos, String eos) {
        return ChatTemplate.of(new TokenizerConfig(bos, eos, null, false, template));
    }

    private static List<ChatTurn> turns(String... roleContent) {
        List<ChatTurn> turns = new ArrayList<>();
        for (int i = 0; i < roleContent.length; i += 2) {
            turns.add(new ChatTurn(roleContent[i], roleContent[i + 1]));
        }
        return turns;
    }

    @Test
    void llama2WithSystemMessage() {
        ChatTemplate template = llama2();

        assertThat(template.isFallback()).isFalse();
        assertThat(template.render(turns("system", "You are a helpful assistant.", "user", "Hello!",
                "assistant", "Hi! How can I help?", "user", "Tell me a joke."), true))
                .isEqualTo("<s>[INST] <<SYS>>\n"
                        + "You are a helpful assistant.\n"
                        + "<</SYS>>\n"
                        + "\n"
                        + "Hello! [/INST] Hi! How can I help? </s><s>[INST] Tell me a joke. [/INST]");
    }

    @Test
    void llama2WithoutSystemMessageStripsContent() {
        assertThat(llama2().render(turns("user", " Hello! ", "assistant", "Hi!", "user", "Bye"), true))
                .isEqualTo("<s>[INST] Hello! [/INST] Hi! </s><s>[INST] Bye [/INST]");
    }

    @Test
    void llama2RejectsRolesThatDoNotAlternate() {
        assertThatThrownBy(() -> llama2().render(turns("user", "Hello!", "user", "Anyone?"), true))
                .isExactlyInstanceOf(ChatTemplateException.class)
                .hasMessage("Conversation roles must alternate user/assistant/user/assistant/...");
    }

    @Test
    void qwenConversationWithGenerationPrompt() throws IOException {
        ChatTemplate qwen = fromResource("qwen2.5-instruct.jinja", null, "<|im_end|>");

        assertThat(qwen.render(turns("system", "You are a pirate.", "user", "Hello!", "assistant", "Arr, hello!",
                "user", "Where is the treasure?"), true))
                .isEqualTo("<|im_start|>system\n"
                        + "You are a pirate.<|im_end|>\n"
                        + "<|im_start|>user\n"
                        + "Hello!<|im_end|>\n"
                        + "<|im_start|>assistant\n"
                        + "Arr, hello!<|im_end|>\n"
                        + "<|im_start|>user\n"
                        + "Where is the treasure?<|im_end|>\n"
                        + "<|im_start|>assistant\n");
    }

    @Test
    void qwenInsertsItsDefaultSystemMessage() throws IOException {
        ChatTemplate qwen = fromResource("qwen2.5-instruct.jinja", null, "<|im_end|>");

        assertThat(qwen.render(turns("user", "Hello!"), true))
                .isEqualTo("<|im_start|>system\n"
                        + "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                        + "<|im_start|>user\n"
                        + "Hello!<|im_end|>\n"
                        + "<|im_start|>assistant\n");
        assertThat(qwen.render(turns("user", "Hello!"), false))
                .isEqualTo("<|im_start|>system\n"
                        + "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                        + "<|im_start|>user\n"
                        + "Hello!<|im_end|>\n");
    }

    @Test
    void bundledTemplateIsQwenWithASupportDefault() throws IOException {
        TokenizerConfig config = TokenizerConfig.read(
                Path.of("src/main/resources/kvshare/bundled-model/tokenizer_config.json"));
        ChatTemplate bundled = ChatTemplate.of(config);
        ChatTemplate qwen = fromResource("qwen2.5-instruct.jinja", null, "<|im_end|>");
        List<ChatTurn> conversation = turns("system", "You are the support assistant of Acme Home Goods.",
                "user", "Where is order 417263?", "assistant", "It has shipped.", "user", "Thanks!");

        assertThat(bundled.isFallback()).isFalse();
        assertThat(bundled.render(conversation, true)).isEqualTo(qwen.render(conversation, true));
        assertThat(bundled.render(turns("user", "Hello!"), true))
                .isEqualTo("<|im_start|>system\n"
                        + "You are a helpful customer support assistant.<|im_end|>\n"
                        + "<|im_start|>user\n"
                        + "Hello!<|im_end|>\n"
                        + "<|im_start|>assistant\n");
        // the tool-use format the tool-call parser recognises (Hermes blocks, as Qwen 2.5 writes them)
        assertThat(config.chatTemplate()).contains("<tool_call>", "<tool_response>", "tool | tojson");
    }

    @Test
    void developerMessagesAreSystemMessagesToATemplateWithoutThatRole() throws IOException {
        ChatTemplate qwen = fromResource("qwen2.5-instruct.jinja", null, "<|im_end|>");
        String rules = "Answer in French. Never discuss refunds.";

        assertThat(qwen.render(turns("developer", rules, "user", "Hi"), true))
                .isEqualTo(qwen.render(turns("system", rules, "user", "Hi"), true))
                .contains("<|im_start|>system\n" + rules + "<|im_end|>")
                .doesNotContain("You are Qwen");
    }

    @Test
    void aTemplateWithADeveloperRoleGetsItAsSent() {
        ChatTemplate roles = inline("{% for m in messages %}{% if m['role'] == 'developer' %}D:{% else %}S:{% endif %}"
                + "{{ m['content'] }};{% endfor %}", null, null);

        assertThat(roles.render(turns("developer", "rules", "system", "more"), false)).isEqualTo("D:rules;S:more;");
    }

    @Test
    void llama3TrimsContentAndPrependsBos() throws IOException {
        ChatTemplate llama3 = fromResource("llama3-instruct.jinja", "<|begin_of_text|>", "<|eot_id|>");

        assertThat(llama3.render(turns("system", "  You are a pirate.  ", "user", "Hello!\n"), true))
                .isEqualTo("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n"
                        + "\n"
                        + "You are a pirate.<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
                        + "\n"
                        + "Hello!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
                        + "\n");
        assertThat(llama3.render(turns("user", "Hello!", "assistant", "Arr!"), false))
                .isEqualTo("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n"
                        + "\n"
                        + "Hello!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
                        + "\n"
                        + "Arr!<|eot_id|>");
    }

    @Test
    void modelWithoutTemplateFallsBackToChatMl() {
        ChatTemplate chatMl = ChatTemplate.of(
                TokenizerConfig.read(TestModels.reference(TestModels.GPT2).resolve("tokenizer_config.json")));

        assertThat(chatMl.isFallback()).isTrue();
        assertThat(chatMl.render(turns("system", "Be brief.", "user", "Hello!"), true))
                .isEqualTo("<|im_start|>system\n"
                        + "Be brief.<|im_end|>\n"
                        + "<|im_start|>user\n"
                        + "Hello!<|im_end|>\n"
                        + "<|im_start|>assistant\n");
        assertThat(chatMl.render(turns("user", "Hello!", "assistant", "Hi!"), false))
                .isEqualTo("<|im_start|>user\n"
                        + "Hello!<|im_end|>\n"
                        + "<|im_start|>assistant\n"
                        + "Hi!<|im_end|>\n");
        assertThat(ChatTemplate.of(TokenizerConfig.EMPTY).isFallback()).isTrue();
    }

    @Test
    void pythonStringMethods() {
        ChatTemplate template = inline("""
                {%- set s = messages[0].content -%}
                {{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ s.strip(' x') }}|{{ s.lstrip(' x') }}|\
                {{ s.rstrip(' y') }}
                [{% if s.startswith('  x') and s.endswith(('q', 'y  ')) and not s.startswith('x') %}affixes{% endif %}]
                {{ s.split()|join('/') }}|{{ s.split(' ')|join('/') }}|{{ s.split(none, 1)|join('/') }}|\
                {{ 'a,b,,c'.split(',', 2)|join('/') }}
                {{ s.lower() }}|{{ s.upper() }}|{{ "hello wORLD it's".title() }}|{{ s.replace('l', 'L') }}""",
                null, null);

        assertThat(template.render(turns("user", "  xHello World y  "), false))
                .isEqualTo("xHello World y|xHello World y  |  xHello World y|Hello World y|Hello World y  |"
                        + "  xHello World\n"
                        + "[affixes]\n"
                        + "xHello/World/y|//xHello/World/y//|xHello/World y  |a/b/,c\n"
                        + "  xhello world y  |  XHELLO WORLD Y  |Hello World It'S|  xHeLLo WorLd y  ");
    }

    @Test
    void jinjaFeaturesOfHuggingFaceTemplates() {
        ChatTemplate template = inline("""
                {%- set ns = namespace(users=0) -%}
                {%- for m in messages[1:] -%}
                {%- if m.role == 'user' %}{% set ns.users = ns.users + 1 %}{% endif -%}
                {{ loop.index0 }}{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif %}:\
                {{ m.role + '=' + m.content|trim }};
                {%- endfor %}
                {{ ns.users }} of {{ messages|length }}{% if foo is defined %} foo{% endif %}\
                {% if messages is defined %} defined{% endif %}{% if tools is none %} no tools{% endif %}""",
                null, null);

        assertThat(template.render(turns("system", "s", "user", " u1 ", "assistant", " a1 ", "user", "u2"), false))
                .isEqualTo("0F:user=u1;1:assistant=a1;2L:user=u2;2 of 4 defined no tools");
    }

    @Test
    void missingTokensRenderAsEmptyStrings() {
        assertThat(inline("[{{ bos_token }}|{{ eos_token }}]", null, null).render(List.of(), false))
                .isEqualTo("[|]");
    }

    @Test
    void syntaxErrorFailsWhenTheTemplateIsLoaded() {
        assertThatThrownBy(() -> inline("{% for message in messages %}{{ message.content }}", null, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Invalid chat template")
                .hasMessageContaining("endfor");
        assertThatThrownBy(() -> inline("{% generation %}x{% endgeneration %}", null, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Unknown tag: generation");
    }

    @Test
    void unknownFunctionsFiltersAndMethodsFailRendering() {
        List<ChatTurn> hello = turns("user", "Hello!");

        assertThatThrownBy(() -> inline("{{ strftime_now('%Y') }}", null, null).render(hello, false))
                .isExactlyInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Could not resolve function 'strftime_now'");
        assertThatThrownBy(() -> inline("{{ messages|no_such_filter }}", null, null).render(hello, false))
                .isExactlyInstanceOf(IllegalStateException.class)
                .hasMessageContaining("No filter named 'no_such_filter'");
        assertThatThrownBy(() -> inline("{% if messages is no_such_test %}{% endif %}", null, null)
                .render(hello, false))
                .isExactlyInstanceOf(IllegalStateException.class)
                .hasMessageContaining("No test named 'no_such_test'");
        assertThatThrownBy(() -> inline("{{ messages[0].content.casefold() }}", null, null).render(hello, false))
                .isExactlyInstanceOf(IllegalStateException.class)
                .hasMessageContaining("casefold");
    }

    @Test
    void templatesCannotIncludeOthers() {
        // The file is on the test classpath, where Jinjava's default loader would find it.
        assertThatThrownBy(() -> inline("{% include 'templates/llama3-instruct.jinja' %}", null, null)
                .render(turns("user", "Hello!"), false))
                .isExactlyInstanceOf(IllegalStateException.class)
                .hasMessageContaining("cannot include");
    }

    @Test
    void concurrentRendersGiveTheSameResults() throws Exception {
        ChatTemplate qwen = fromResource("qwen2.5-instruct.jinja", null, "<|im_end|>");
        List<List<ChatTurn>> conversations = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            conversations.add(i % 2 == 0
                    ? turns("user", "question " + i)
                    : turns("system", "system " + i, "user", "question " + i, "assistant", "answer " + i,
                            "user", "more " + i));
        }
        List<String> expected = conversations.stream().map(c -> qwen.render(c, true)).toList();

        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<List<String>>> results = new ArrayList<>();
            for (int thread = 0; thread < 8; thread++) {
                results.add(pool.submit(() -> {
                    List<String> rendered = new ArrayList<>();
                    for (int round = 0; round < 10; round++) {
                        for (List<ChatTurn> conversation : conversations) {
                            rendered.add(qwen.render(conversation, true));
                        }
                    }
                    return rendered;
                }));
            }
            for (Future<List<String>> result : results) {
                List<String> rendered = result.get();
                for (int i = 0; i < rendered.size(); i++) {
                    assertThat(rendered.get(i)).isEqualTo(expected.get(i % expected.size()));
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }
}

package dev.kvshare.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.kvshare.testsupport.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerConfigTest {


    @TempDir
    Path dir;

    private TokenizerConfig read(String json) throws IOException {
        Path file = dir.resolve("tokenizer_config.json");
        Files.writeString(file, json);
        return TokenizerConfig.read(file);
    }

    @Test
    void readsTheLlamaConfig() {
        TokenizerConfig config = TokenizerConfig.read(TestModels.reference(TestModels.LLAMA).resolve("tokenizer_config.json"));

        assertThat(config.bosToken()).isEqualTo("<s>");
        assertThat(config.eosToken()).isEqualTo("</s>");
        assertThat(config.padToken()).isEqualTo("<unk>");
        assertThat(config.addBosToken()).isTrue();
        assertThat(config.chatTemplate()).startsWith("{% if messages[0]['role'] == 'system' %}");
    }

    @Test
    void readsTokensWrittenAsStringsOrObjects() throws IOException {
        TokenizerConfig config = read("""
                {"bos_token": {"__type": "AddedToken", "content": "<|begin_of_text|>", "special": true},
                 "eos_token": "<|eot_id|>",
                 "pad_token": null}""");

        assertThat(config).isEqualTo(new TokenizerConfig("<|begin_of_text|>", "<|eot_id|>", null, false, null));
    }

    @Test
    void picksTheDefaultOfNamedTemplates() throws IOException {
        TokenizerConfig config = read("""
                {"chat_template": [
                   {"name": "tool_use", "template": "tools"},
                   {"name": "default", "template": "chat"}]}""");

        assertThat(config.chatTemplate()).isEqualTo("chat");
    }

    @Test
    void picksTheFirstNamedTemplateWithoutDefault() throws IOException {
        TokenizerConfig config = read("""
                {"chat_template": [{"name": "rag", "template": "first"}, {"name": "tool_use", "template": "second"}]}""");

        assertThat(config.chatTemplate()).isEqualTo("first");
    }

    @Test
    void missingFileIsAnEmptyConfig() {
        assertThat(TokenizerConfig.read(dir.resolve("absent.json"))).isEqualTo(TokenizerConfig.EMPTY);
        assertThat(TokenizerConfig.EMPTY).isEqualTo(new TokenizerConfig(null, null, null, false, null));
    }

    @Test
    void gpt2ConfigHasNoTemplate() {
        TokenizerConfig config = TokenizerConfig.read(TestModels.reference(TestModels.GPT2).resolve("tokenizer_config.json"));

        assertThat(config.chatTemplate()).isNull();
        assertThat(config.eosToken()).isEqualTo("<|endoftext|>");
        assertThat(config.addBosToken()).isFalse();
    }
}

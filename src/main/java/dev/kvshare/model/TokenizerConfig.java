package dev.kvshare.model;

import java.nio.file.Files;
import java.nio.file.Path;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What the service uses of a Hugging Face {@code tokenizer_config.json}.
 *
 * @param bosToken     the BOS token text, or {@code null}
 * @param eosToken     the EOS token text, or {@code null}
 * @param padToken     the padding token text, or {@code null}
 * @param addBosToken  whether the tokenizer is configured to prepend BOS
 * @param chatTemplate the Jinja chat template, or {@code null} when the model has none
 */
public record TokenizerConfig(String bosToken, String eosToken, String padToken, boolean addBosToken,
                              String chatTemplate) {

    /** The configuration of a model without a {@code tokenizer_config.json}. */
    public static final TokenizerConfig EMPTY = new TokenizerConfig(null, null, null, false, null);

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** Reads {@code file}; a missing file gives {@link #EMPTY}. */
    public static TokenizerConfig read(Path file) {
        if (!Files.exists(file)) {
            return EMPTY;
        }
        JsonNode root = JSON.readTree(file);
        return new TokenizerConfig(token(root.path("bos_token")), token(root.path("eos_token")),
                token(root.path("pad_token")), root.path("add_bos_token").asBoolean(false),
                chatTemplate(root.path("chat_template")));
    }

    /** A special token is written either as its text or as an added-token object {@code {"content": ...}}. */
    private static String token(JsonNode node) {
        if (node.isObject()) {
            node = node.path("content");
        }
        return node.isString() ? node.stringValue() : null;
    }

    /** Either one template, or named ones ({@code [{"name": ..., "template": ...}]}): "default", else the first. */
    private static String chatTemplate(JsonNode node) {
        if (node.isString()) {
            return node.stringValue();
        }
        if (!node.isArray() || node.isEmpty()) {
            return null;
        }
        JsonNode chosen = node.get(0);
        for (JsonNode named : node) {
            if ("default".equals(named.path("name").asString(null))) {
                chosen = named;
                break;
            }
        }
        JsonNode template = chosen.path("template");
        return template.isString() ? template.stringValue() : null;
    }
}

package dev.kvshare.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What the generation loop needs from a model's config files ({@code config.json},
 * {@code generation_config.json}, {@code genai_config.json}): context length, end-of-sequence ids, the
 * KV dimensions for exports that leave them symbolic, and the sampling a request that sets none gets.
 */
public record ModelConfig(int contextLength, Set<Integer> eosTokenIds, DecoderIo.HeadDimensions headDimensions,
                          Optional<String> genaiDecoderFile, SamplingDefaults samplingDefaults) {

    /**
     * The temperature and top-p of a request that gives none: {@code generation_config.json}'s
     * {@code temperature} and {@code top_p} where it sets them, else OpenAI's defaults (1 and 1).
     */
    public record SamplingDefaults(double temperature, double topP) {

        public static final SamplingDefaults OPENAI = new SamplingDefaults(1.0, 1.0);

        static SamplingDefaults of(JsonNode generation) {
            double temperature = generation.path("temperature").asDouble(OPENAI.temperature());
            double topP = generation.path("top_p").asDouble(OPENAI.topP());
            if (!(temperature >= 0 && temperature <= 2) || !(topP > 0 && topP <= 1)) {
                throw new UnsupportedModelException("generation_config.json: temperature must be within [0, 2] "
                        + "and top_p within (0, 1], not " + temperature + " and " + topP);
            }
            return new SamplingDefaults(temperature, topP);
        }
    }

    private static final int DEFAULT_CONTEXT_LENGTH = 2048;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** Reads whichever of the config files {@code directory} has; none is required. */
    public static ModelConfig read(Path directory) {
        JsonNode hf = readJson(directory.resolve("config.json"));
        JsonNode generation = readJson(directory.resolve("generation_config.json"));
        JsonNode genai = readJson(directory.resolve("genai_config.json")).path("model");
        JsonNode genaiDecoder = genai.path("decoder");

        int context = firstPositive(genai.path("context_length"), hf.path("max_position_embeddings"),
                hf.path("n_positions"), hf.path("max_sequence_length"));
        Set<Integer> eos = new LinkedHashSet<>();
        addIds(eos, generation.path("eos_token_id"));
        addIds(eos, hf.path("eos_token_id"));
        addIds(eos, genai.path("eos_token_id"));

        int kvHeads = firstPositive(genaiDecoder.path("num_key_value_heads"), hf.path("num_key_value_heads"),
                hf.path("num_attention_heads"), hf.path("n_head"));
        int headDim = firstPositive(genaiDecoder.path("head_size"), hf.path("head_dim"));
        int hidden = firstPositive(hf.path("hidden_size"), hf.path("n_embd"));
        int heads = firstPositive(hf.path("num_attention_heads"), hf.path("n_head"));
        if (headDim == 0 && hidden > 0 && heads > 0) {
            headDim = hidden / heads;
        }
        Optional<String> file = Optional.ofNullable(genaiDecoder.path("filename").asString(null));
        return new ModelConfig(context > 0 ? context : DEFAULT_CONTEXT_LENGTH, Set.copyOf(eos),
                new DecoderIo.HeadDimensions(kvHeads, headDim), file, SamplingDefaults.of(generation));
    }

    public ModelConfig withContextLength(int length) {
        return new ModelConfig(length, eosTokenIds, headDimensions, genaiDecoderFile, samplingDefaults);
    }

    public ModelConfig withEosTokenIds(Set<Integer> extra) {
        Set<Integer> all = new LinkedHashSet<>(eosTokenIds);
        all.addAll(extra);
        return new ModelConfig(contextLength, Set.copyOf(all), headDimensions, genaiDecoderFile, samplingDefaults);
    }

    static JsonNode readJson(Path file) {
        if (!Files.isRegularFile(file)) {
            return JSON.missingNode();
        }
        try {
            return JSON.readTree(Files.readString(file));
        } catch (IOException | RuntimeException e) {
            throw new UnsupportedModelException("Cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static int firstPositive(JsonNode... nodes) {
        for (JsonNode node : nodes) {
            if (node.isIntegralNumber() && node.asInt() > 0) {
                return node.asInt();
            }
        }
        return 0;
    }

    private static void addIds(Set<Integer> ids, JsonNode node) {
        if (node.isIntegralNumber()) {
            ids.add(node.asInt());
        } else if (node.isArray()) {
            node.forEach(id -> addIds(ids, id));
        }
    }
}

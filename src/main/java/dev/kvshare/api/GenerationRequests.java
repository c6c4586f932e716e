package dev.kvshare.api;

import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Supplier;

import dev.kvshare.constrain.TokenConstraint;
import dev.kvshare.generation.GenerationRequest;
import dev.kvshare.generation.SamplingParams;
import dev.kvshare.model.ModelConfig.SamplingDefaults;
import dev.kvshare.promptcache.CacheNamespace;

/** Checks the fields both completion endpoints share and turns them into a {@link GenerationRequest}. */
final class GenerationRequests {

    private GenerationRequests() {
    }

    /**
     * @param defaults the served model's sampling for fields the request leaves out
     * @param stops    the request's checked stop strings (see RequestLimits)
     * @param salt     the request's prompt-cache salt (see CacheNamespace)
     */
    static GenerationRequest of(SamplingFields fields, SamplingDefaults defaults, int[] prompt, int maxTokens,
                                List<String> stops, String salt) {
        return of(fields, defaults, prompt, maxTokens, stops, salt, () -> TokenConstraint.NONE);
    }

    /** @param constraint the structured output the sequence is generated under (see StructuredOutput) */
    static GenerationRequest of(SamplingFields fields, SamplingDefaults defaults, int[] prompt, int maxTokens,
                                List<String> stops, String salt, Supplier<TokenConstraint> constraint) {
        return new GenerationRequest(prompt, maxTokens, sampling(fields, defaults), stops,
                Boolean.TRUE.equals(fields.ignoreEos()), salt, constraint, fields instanceof ChatCompletionRequest
                        ? GenerationRequest.Operation.CHAT : GenerationRequest.Operation.TEXT_COMPLETION);
    }

    /** The longest {@code prompt_cache_key} accepted: enough for any user or conversation id, bounded like all input. */
    static final int MAX_PROMPT_CACHE_KEY_CHARS = 1024;
    private static final Set<String> PROMPT_CACHE_RETENTIONS = Set.of("in_memory", "24h");

    /**
     * The request's prompt-cache salt: its tenant (from {@code authorization}), {@code cache_salt} and
     * {@code prompt_cache_key}. Both client fields only narrow sharing within the tenant. {@code
     * prompt_cache_retention} is checked here and otherwise ignored: how long entries live is the operator's
     * choice (local-tier size, Redis TTL), not a client's.
     */
    static String salt(SamplingFields fields, CacheNamespace namespace, String authorization) {
        String key = fields.promptCacheKey();
        if (key != null && key.length() > MAX_PROMPT_CACHE_KEY_CHARS) {
            throw new InvalidRequestException("prompt_cache_key must be at most " + MAX_PROMPT_CACHE_KEY_CHARS
                    + " characters, not " + key.length(), "prompt_cache_key");
        }
        String retention = fields.promptCacheRetention();
        if (retention != null && !PROMPT_CACHE_RETENTIONS.contains(retention)) {
            throw new InvalidRequestException("prompt_cache_retention must be \"in_memory\" or \"24h\"",
                    "prompt_cache_retention");
        }
        return namespace.saltFor(authorization, fields.cacheSalt(), key);
    }

    /** The request must name the served model (or none: then it is implied). */
    static void checkModel(SamplingFields fields, String servedModel) {
        if (fields.model() != null && !fields.model().equals(servedModel)) {
            throw new UnknownModelException(fields.model());
        }
        if (fields.n() != null && fields.n() != 1) {
            throw new InvalidRequestException("Only n=1 is supported", "n");
        }
        fields.unsupportedParameter().ifPresent(param -> {
            throw new InvalidRequestException(param + " is not supported by this server; see docs/api.md for "
                    + "what each parameter does here", param);
        });
    }

    static SamplingParams sampling(SamplingFields fields, SamplingDefaults defaults) {
        double temperature = within(fields.temperature(), defaults.temperature(), 0, 2, "temperature");
        double topP = within(fields.topP(), defaults.topP(), 0, 1, "top_p");
        if (topP == 0) {
            throw new InvalidRequestException("top_p must be greater than 0", "top_p");
        }
        int topK = fields.topK() == null || fields.topK() == -1 ? 0 : fields.topK();
        if (topK < 0) {
            throw new InvalidRequestException("top_k must be -1 (all), 0 (all) or positive", "top_k");
        }
        double presence = within(fields.presencePenalty(), 0, -2, 2, "presence_penalty");
        double frequency = within(fields.frequencyPenalty(), 0, -2, 2, "frequency_penalty");
        OptionalLong seed = fields.seed() == null ? OptionalLong.empty() : OptionalLong.of(fields.seed());
        return new SamplingParams(temperature, topK, topP, presence, frequency, seed);
    }

    private static double within(Double value, double fallback, double min, double max, String param) {
        if (value == null) {
            return fallback;
        }
        if (value.isNaN() || value < min || value > max) {
            throw new InvalidRequestException(param + " must be between " + min + " and " + max + ", not " + value,
                    param);
        }
        return value;
    }
}

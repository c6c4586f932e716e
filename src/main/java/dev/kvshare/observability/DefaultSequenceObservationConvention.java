package dev.kvshare.observability;

import io.micrometer.common.KeyValues;

/**
 * A sequence's span is named {@code <operation> <model>} and carries the OpenTelemetry GenAI attributes
 * (request, usage, response), the prompt tokens restored from each cache tier, and where a cancelled request was.
 */
public class DefaultSequenceObservationConvention implements SequenceObservationConvention {

    @Override
    public String getName() {
        return "kvshare.sequence";
    }

    @Override
    public String getContextualName(SequenceContext context) {
        return context.request().operation() + " " + context.request().model();
    }

    @Override
    public KeyValues getLowCardinalityKeyValues(SequenceContext context) {
        return KeyValues.of("gen_ai.operation.name", context.request().operation(),
                "gen_ai.request.model", context.request().model());
    }

    @Override
    public KeyValues getHighCardinalityKeyValues(SequenceContext context) {
        SequenceContext.Request request = context.request();
        KeyValues values = KeyValues.of(
                "gen_ai.request.max_tokens", Integer.toString(request.maxTokens()),
                "gen_ai.request.temperature", Double.toString(request.temperature()),
                "gen_ai.request.top_p", Double.toString(request.topP()),
                "gen_ai.request.top_k", Integer.toString(request.topK()),
                "gen_ai.usage.input_tokens", Integer.toString(request.promptTokens()));
        SequenceContext.Restored restored = context.restored();
        if (restored != null) {
            values = values.and("kvshare.cached_tokens", Integer.toString(restored.tokens()),
                    "kvshare.cached_tokens.local", Integer.toString(restored.localTokens()),
                    "kvshare.cached_tokens.redis", Integer.toString(restored.redisTokens()),
                    "kvshare.cache_tier", tier(restored));
        }
        if (context.finishReason() != null) {
            values = values.and("gen_ai.response.model", request.model(),
                    "gen_ai.usage.output_tokens", Integer.toString(context.completionTokens()),
                    "gen_ai.response.finish_reasons", context.finishReason());
        }
        if (context.cancel() != null) {
            values = values.and("kvshare.cancelled", context.cancel().stage());
        }
        return values;
    }

    private static String tier(SequenceContext.Restored restored) {
        if (restored.redisTokens() > 0) {
            return restored.localTokens() > 0 ? "local+redis" : "redis";
        }
        return restored.localTokens() > 0 ? "local" : "none";
    }
}

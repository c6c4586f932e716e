package dev.kvshare.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.kvshare.promptcache.PromptCache;
import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.Instance;
import dev.kvshare.testsupport.TestModels;
import dev.kvshare.testsupport.TestRedis;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Time to first token for one long system prompt: a cold prefill, a local-tier hit and a Redis hit on a
 * replica that never saw the prompt, measured interleaved in one run and reported as medians and ratios.
 * Run with {@code ./mvnw -Pbench test -Dtest=PromptCacheTtftBenchmark}; {@code -Dbench.model=DIR} (default
 * the bundled model), {@code -Dbench.prompt-tokens}, {@code -Dbench.block-size} (default: chosen by the service),
 * {@code -Dbench.repetitions}.
 */
@Tag("benchmark")
class PromptCacheTtftBenchmark {

    private static final int REPETITIONS = Integer.getInteger("bench.repetitions", 15);
    private static final int PROMPT_TOKENS = Integer.getInteger("bench.prompt-tokens", 1000);
    /** Context left for the chat markup, the user's turn and the one generated token. */
    private static final int CONTEXT_MARGIN = 64;

    @Test
    void coldVersusLocalVersusRedis() throws Exception {
        String modelProperty = System.getProperty("bench.model");
        Path model = modelProperty == null ? null : Path.of(modelProperty);
        try (TestRedis redis = new TestRedis().start()) {
            Map<String, Object> properties = new LinkedHashMap<>();
            if (model != null) {
                properties.put("kvshare.model.path", model);
            }
            properties.put("kvshare.prompt-cache.block-size", Integer.getInteger("bench.block-size", 0));
            properties.put("kvshare.prompt-cache.redis.enabled", true);
            properties.put("spring.data.redis.host", redis.host());
            properties.put("spring.data.redis.port", redis.port());
            properties.put("kvshare.prompt-cache.redis.timeout", "5s");
            properties.put("logging.level.root", "warn");
            try (Instance writer = Instance.start(properties); Instance replica = Instance.start(properties)) {
                String system = systemPrompt(writer.http());
                Map<String, List<Double>> millis = new LinkedHashMap<>();
                List.of("cold", "local hit", "redis hit").forEach(k -> millis.put(k, new ArrayList<>()));
                int cachedOnHit = 0;
                for (int rep = -2; rep < REPETITIONS; rep++) {
                    System.out.printf("repetition %d of %d%n", rep + 3, REPETITIONS + 2);
                    // A fresh salt makes the prompt new to every tier: a cold prefill (which also stores it).
                    String salt = "rep-" + rep;
                    double cold = timed(writer.http(), system, salt);
                    double local = timed(writer.http(), system, salt);
                    replica.bean(PromptCache.class).evictLocal();
                    Thread.sleep(200); // the writer's Redis store runs in the background
                    double remote = timed(replica.http(), system, salt);
                    if (rep >= 0) {
                        millis.get("cold").add(cold);
                        millis.get("local hit").add(local);
                        millis.get("redis hit").add(remote);
                    }
                    cachedOnHit = lastCached;
                }
                double coldMedian = Report.median(millis.get("cold"));
                System.out.printf("%nTime to first token, prompt of %d tokens, %d repetitions, model %s%n",
                        lastPromptTokens, REPETITIONS, model == null ? "bundled" : model.getFileName());
                System.out.printf("%-10s %12s %10s%n", "variant", "median ms", "vs cold");
                millis.forEach((variant, values) -> System.out.printf("%-10s %12.1f %9.1fx%n", variant,
                        Report.median(values), coldMedian / Report.median(values)));
                System.out.printf("cached_tokens on a hit: %d (block size %d)%n", cachedOnHit,
                        writer.bean(PromptCache.class).blockSize());
            }
        }
    }

    private int lastCached;
    private int lastPromptTokens;

    /** Wall time of a one-token completion: the prefill (or restore) plus one step. */
    private double timed(Http http, String system, String salt) {
        String body = """
                {"messages": [{"role": "system", "content": %s}, {"role": "user", "content": "Where is my order?"}],
                 "max_tokens": 1, "temperature": 0, "cache_salt": %s}""".formatted(Http.JSON.writeValueAsString(system),
                Http.JSON.writeValueAsString(salt));
        long start = System.nanoTime();
        Http.Response response = http.post("/v1/chat/completions", body);
        double ms = (System.nanoTime() - start) / 1e6;
        if (response.status() != 200) {
            throw new IllegalStateException("HTTP " + response.status() + " " + response.body());
        }
        lastCached = response.json().path("usage").path("prompt_tokens_details").path("cached_tokens").asInt();
        lastPromptTokens = response.json().path("usage").path("prompt_tokens").asInt();
        return ms;
    }

    /**
     * A support-bot system prompt grown to about PROMPT_TOKENS tokens, or as far as the model's context allows
     * with room for the chat markup, the user turn and the answer.
     */
    private static String systemPrompt(Http http) {
        int context = http.get("/v1/models").json().path("data").path(0).path("max_model_len").asInt();
        int target = Math.min(PROMPT_TOKENS, context - CONTEXT_MARGIN);
        if (target < PROMPT_TOKENS) {
            System.out.printf("The model's context is %d tokens: the prompt is %d tokens, not %d%n", context,
                    target, PROMPT_TOKENS);
        }
        String policy = "Orders ship within two business days. Refunds are issued to the original payment method "
                + "within five to seven business days after the return arrives. Damaged items are replaced free of "
                + "charge. Never ask for full card numbers. Escalate billing disputes to a human agent. ";
        String prompt = "You are the customer support assistant of Example Shop. ";
        while (tokens(http, prompt + policy) < target) {
            prompt += policy;
        }
        return prompt;
    }

    private static int tokens(Http http, String text) {
        Http.Response response = http.post("/v1/completions", "{\"prompt\": " + Http.JSON.writeValueAsString(text)
                + ", \"max_tokens\": 1}");
        if (response.status() != 200) {
            throw new IllegalStateException("Counting the prompt's tokens failed: HTTP " + response.status() + " "
                    + response.body());
        }
        return response.json().path("usage").path("prompt_tokens").asInt();
    }
}

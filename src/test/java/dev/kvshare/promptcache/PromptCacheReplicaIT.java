package dev.kvshare.promptcache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;

import dev.kvshare.model.BundledModel;
import dev.kvshare.model.ModelFingerprint;
import dev.kvshare.testsupport.Instance;
import dev.kvshare.testsupport.TestPrompts;
import dev.kvshare.testsupport.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.Resources;
import tools.jackson.databind.JsonNode;

/**
 * Replicas of the bundled model share a support bot's system prompt through one real Redis: instance B, which
 * never saw the prompt, restores it from what A stored and answers exactly like C, which has no prompt cache.
 */
// Beside the serial integration tests (its own applications and Redis), but never during one that captures the
// output (docs/architecture.md, Tests); its tests one after another, on the same instances.
@Execution(ExecutionMode.CONCURRENT)
@ResourceLock(value = Resources.SYSTEM_OUT, mode = ResourceAccessMode.READ)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PromptCacheReplicaIT {

    static final int BLOCK = 16;

    private TestRedis redis;
    private byte[] fingerprint;
    private Instance a;
    private Instance b;
    private Instance c;

    @BeforeAll
    void start() {
        redis = new TestRedis().start();
        fingerprint = ModelFingerprint.of(BundledModel.extract()).digest();
        Map<String, Object> shared = Map.of("kvshare.prompt-cache.block-size", BLOCK,
                "kvshare.prompt-cache.redis.enabled", true, "spring.data.redis.host", redis.host(),
                "spring.data.redis.port", redis.port(), "kvshare.prompt-cache.tenants[key-acme]", "acme",
                "kvshare.prompt-cache.tenants[key-globex]", "globex");
        a = Instance.start(shared);
        b = Instance.start(shared);
        c = Instance.start(Map.of("kvshare.prompt-cache.enabled", false));
    }

    @AfterAll
    void stop() {
        List.of(a, b, c).forEach(Instance::close);
        redis.close();
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void aReplicaThatNeverSawTheSystemPromptRestoresItFromRedisAndAnswersIdentically() throws Exception {
        JsonNode first = chat(a, "Where is my refund for order 4417203?");
        assertThat(cached(first)).isZero();
        awaitStored(first, CacheNamespace.ANONYMOUS, null);

        JsonNode second = chat(b, "My parcel arrived damaged.");
        JsonNode reference = chat(c, "My parcel arrived damaged.");

        int common = commonPrefix(ids(first.path("prompt_token_ids")), ids(second.path("prompt_token_ids")));
        int expected = Math.min(common, ids(second.path("prompt_token_ids")).size() - 1) / BLOCK * BLOCK;
        assertThat(expected).isGreaterThan(600);
        assertThat(cached(second)).isEqualTo(expected);
        assertThat(b.metric("kvshare_prompt_tokens_total", "source=\"redis\"")).isEqualTo(expected);
        assertThat(ids(second.path("choices").path(0).path("token_ids")))
                .containsExactlyElementsOf(ids(reference.path("choices").path(0).path("token_ids")));

        // B promoted the blocks to its local tier: the next request there hits locally (and may continue into the
        // partial block the second request left, as far as the two questions' tokens agree).
        JsonNode third = chat(b, "Can I change my address?");
        assertThat(cached(third)).isGreaterThanOrEqualTo(expected);
        assertThat(b.metric("kvshare_prompt_tokens_total", "source=\"local\"")).isEqualTo(cached(third));
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void differentCacheSaltsAndTenantsNeverShareEntries() throws Exception {
        String system = "Tenant isolation check. " + TestPrompts.SUPPORT;
        awaitStored(chatAs(a, system, "first", "salt-one", null), CacheNamespace.ANONYMOUS, "salt-one");
        assertThat(cached(chatAs(b, system, "second", "salt-two", null))).isZero();
        assertThat(cached(chatAs(b, system, "third", "salt-one", "Bearer unknown-key"))).isPositive();
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void aClientChosenSaltNeverReachesAnotherTenantsEntries() throws Exception {
        String system = "Per-tenant prompt. " + TestPrompts.SUPPORT;
        awaitStored(chatAs(a, system, "first", "shared-salt", "Bearer key-acme"), "acme", "shared-salt");
        assertThat(cached(chatAs(b, system, "second", "shared-salt", "Bearer key-globex"))).isZero();
        assertThat(cached(chatAs(b, system, "second", "shared-salt", null))).isZero();
        assertThat(cached(chatAs(b, system, "third", "shared-salt", "Bearer key-acme"))).isPositive();
    }

    /** Waits until Redis holds every full block of {@code response}'s prompt, stored in the background. */
    private void awaitStored(JsonNode response, String tenant, String salt) throws InterruptedException {
        RedisKeys.awaitAll(redis, RedisKeys.chainKeys(fingerprint, BLOCK, ids(response.path("prompt_token_ids")),
                CacheNamespace.salt(tenant, salt)));
    }

    private JsonNode chat(Instance instance, String user) {
        return chatAs(instance, TestPrompts.SUPPORT, user, null, null);
    }

    private JsonNode chatAs(Instance instance, String system, String user, String salt, String authorization) {
        String body = """
                {"messages": [{"role": "system", "content": %s}, {"role": "user", "content": %s}],
                 "max_tokens": 12, "temperature": 0, "ignore_eos": true, "return_token_ids": true%s}"""
                .formatted(json(system), json(user), salt == null ? "" : ", \"cache_salt\": " + json(salt));
        var response = authorization == null ? instance.http().post("/v1/chat/completions", body)
                : instance.http().post("/v1/chat/completions", body, authorization);
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        return response.json();
    }

    static int cached(JsonNode response) {
        return response.path("usage").path("prompt_tokens_details").path("cached_tokens").asInt();
    }

    static List<Integer> ids(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).map(JsonNode::asInt).toList();
    }

    static int commonPrefix(List<Integer> x, List<Integer> y) {
        int i = 0;
        while (i < x.size() && i < y.size() && x.get(i).equals(y.get(i))) {
            i++;
        }
        return i;
    }

    static String json(String text) {
        return dev.kvshare.testsupport.Http.JSON.writeValueAsString(text);
    }
}

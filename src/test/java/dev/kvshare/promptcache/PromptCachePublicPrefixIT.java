package dev.kvshare.promptcache;

import static dev.kvshare.promptcache.PromptCacheReplicaIT.cached;
import static dev.kvshare.promptcache.PromptCacheReplicaIT.ids;
import static dev.kvshare.promptcache.PromptCacheReplicaIT.json;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import dev.kvshare.generation.PromptBuilder;
import dev.kvshare.model.BundledModel;
import dev.kvshare.model.ModelFingerprint;
import dev.kvshare.testsupport.Instance;
import dev.kvshare.testsupport.TestPrompts;
import dev.kvshare.testsupport.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/**
 * Two replicas, one Redis, two tenants and an operator-declared public system prompt: every tenant reuses the
 * prompt's full blocks (prefilled once, by warm-up), and nothing after them — another tenant sending the very
 * same conversation reuses only the public blocks. Every answer equals a cold run's.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PromptCachePublicPrefixIT {

    private static final int BLOCK = 16;
    private static final String ACME = "Bearer key-acme";
    private static final String GLOBEX = "Bearer key-globex";

    private TestRedis redis;
    private byte[] fingerprint;
    private Instance first;
    private Instance second;
    private Instance cold;
    /** Tokens of the public system prompt's full blocks. */
    private int publicTokens;
    private int[] publicPrefix;
    private double firstRestoredAtStart;
    private double secondRestoredAtStart;

    @BeforeAll
    void start() {
        redis = new TestRedis().start();
        fingerprint = ModelFingerprint.of(BundledModel.extract()).digest();
        Map<String, Object> shared = Map.of("kvshare.prompt-cache.block-size", BLOCK,
                "kvshare.prompt-cache.redis.enabled", true, "kvshare.prompt-cache.redis.timeout", "5s",
                "spring.data.redis.host", redis.host(), "spring.data.redis.port", redis.port(), "kvshare.prompt-cache.tenants[key-acme]", "acme",
                "kvshare.prompt-cache.tenants[key-globex]", "globex",
                "kvshare.prompt-cache.public-prefixes[0].system", TestPrompts.SUPPORT);
        first = Instance.start(shared);
        second = Instance.start(shared);
        firstRestoredAtStart = first.metric("kvshare_prompt_tokens_total", "source=\"redis\"");
        secondRestoredAtStart = second.metric("kvshare_prompt_tokens_total", "source=\"redis\"");
        cold = Instance.start(Map.of("kvshare.prompt-cache.enabled", false));
        publicPrefix = second.bean(PromptBuilder.class).systemPrefix(TestPrompts.SUPPORT);
        publicTokens = publicPrefix.length / BLOCK * BLOCK;
    }

    @AfterAll
    void stop() {
        List.of(first, second, cold).forEach(Instance::close);
        redis.close();
    }

    @Test
    void warmUpPrefilledThePublicBlocksOnceForEveryReplica() throws Exception {
        assertThat(publicTokens).isGreaterThan(600);
        // The first replica computed them at start-up and stored them; the second restored them from Redis.
        assertThat(firstRestoredAtStart).isZero();
        RedisKeys.awaitAll(redis, publicKeys());
        assertThat(secondRestoredAtStart).isEqualTo(publicTokens);
    }

    @Test
    void aTenantsFirstRequestUnderThePublicSystemPromptReusesItsFullBlocks() {
        JsonNode response = chat(second, "I want to return the shoes I bought.", GLOBEX);
        assertThat(cached(response)).isEqualTo(publicTokens);
        assertSameAsCold(response, "I want to return the shoes I bought.");
    }

    @Test
    void anotherTenantSendingTheSameConversationReusesOnlyThePublicBlocks() throws Exception {
        String user = "My order 4417203 never arrived and the tracking page shows nothing since Monday.";
        JsonNode acme = chat(first, user, ACME);
        assertThat(cached(acme)).isEqualTo(publicTokens);
        List<Integer> prompt = ids(acme.path("prompt_token_ids"));
        RedisKeys.awaitAll(redis, tenantKeys(prompt, CacheNamespace.salt("acme", null)));

        // Positive control: the conversation's own blocks are in Redis, and acme reuses them on the other replica.
        JsonNode acmeAgain = chat(second, user, ACME);
        int conversationTokens = (prompt.size() - 1) / BLOCK * BLOCK;
        assertThat(conversationTokens).isGreaterThan(publicTokens);
        assertThat(cached(acmeAgain)).isEqualTo(conversationTokens);

        JsonNode globex = chat(second, user, GLOBEX);
        assertThat(cached(globex)).isEqualTo(publicTokens);

        for (JsonNode response : List.of(acme, acmeAgain, globex)) {
            assertSameAsCold(response, user);
        }
    }

    @Test
    void aRequestCannotMakeItsOwnSystemPromptPublic() {
        String system = "Not declared. " + TestPrompts.SUPPORT;
        chat(first, system, "hello", ACME);
        assertThat(cached(chat(second, system, "hello again", GLOBEX))).isZero();
    }

    /** The Redis keys of the public prefix's full blocks: the same for every tenant. */
    private List<String> publicKeys() {
        BlockChain chain = new PrefixHasher(fingerprint, BLOCK, List.of(publicPrefix)).blocks(publicPrefix, "any");
        assertThat(chain.publicBlocks()).isEqualTo(chain.size());
        String prefix = "kvshare:v1:" + new ModelFingerprint(fingerprint).hex() + ":";
        return chain.hashes().stream().map(h -> prefix + h.hex()).toList();
    }

    /** The Redis keys of a prompt's blocks after the public ones, as the tenant with {@code salt} stores them. */
    private List<String> tenantKeys(List<Integer> prompt, String salt) {
        int[] ids = prompt.stream().mapToInt(Integer::intValue).toArray();
        PrefixHasher hasher = new PrefixHasher(fingerprint, BLOCK, List.of(publicPrefix));
        BlockChain chain = hasher.blocks(Arrays.copyOf(ids, ids.length - 1), salt);
        String prefix = "kvshare:v1:" + new ModelFingerprint(fingerprint).hex() + ":";
        return chain.hashes().subList(chain.publicBlocks(), chain.size()).stream().map(h -> prefix + h.hex()).toList();
    }

    private void assertSameAsCold(JsonNode response, String user) {
        JsonNode reference = chat(cold, user, null);
        assertThat(ids(response.path("choices").path(0).path("token_ids")))
                .isEqualTo(ids(reference.path("choices").path(0).path("token_ids")));
    }

    private static JsonNode chat(Instance instance, String user, String authorization) {
        return chat(instance, TestPrompts.SUPPORT, user, authorization);
    }

    private static JsonNode chat(Instance instance, String system, String user, String authorization) {
        String body = """
                {"messages": [{"role": "system", "content": %s}, {"role": "user", "content": %s}],
                 "max_tokens": 12, "temperature": 0, "ignore_eos": true, "return_token_ids": true}"""
                .formatted(json(system), json(user));
        var response = authorization == null ? instance.http().post("/v1/chat/completions", body)
                : instance.http().post("/v1/chat/completions", body, authorization);
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        return response.json();
    }
}

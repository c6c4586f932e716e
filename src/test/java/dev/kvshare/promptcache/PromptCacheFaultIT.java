package dev.kvshare.promptcache;

import static dev.kvshare.promptcache.PromptCacheReplicaIT.cached;
import static dev.kvshare.promptcache.PromptCacheReplicaIT.ids;
import static dev.kvshare.promptcache.PromptCacheReplicaIT.json;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;
import java.util.zip.CRC32C;

import dev.kvshare.model.BundledModel;
import dev.kvshare.model.ModelFingerprint;
import dev.kvshare.testsupport.Instance;
import dev.kvshare.testsupport.TestPrompts;
import dev.kvshare.testsupport.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import tools.jackson.databind.JsonNode;

/**
 * Faults never fail a request or change its output: corrupt, foreign or forged frames are misses (counted by
 * reason, replaced), and a stopped or stalled Redis only means computing the prefix.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PromptCacheFaultIT {

    static final int BLOCK = 16;
    static final int HMAC = 32;
    static final int CRC = 4;

    private TestRedis redis;
    private Instance writer;
    private Instance reader;
    private Instance reference;
    private byte[] fingerprint;

    @BeforeAll
    void start() {
        redis = new TestRedis().start();
        fingerprint = ModelFingerprint.of(BundledModel.extract()).digest();
        Map<String, Object> cached = Map.of("kvshare.prompt-cache.block-size", BLOCK,
                "kvshare.prompt-cache.redis.enabled", true,
                "kvshare.prompt-cache.hmac-key", "test-signing-key", "kvshare.prompt-cache.redis.timeout", "300ms",
                "kvshare.prompt-cache.redis.open-duration", "1s", "spring.data.redis.host", redis.host(),
                "spring.data.redis.port", redis.port());
        writer = Instance.start(cached);
        reader = Instance.start(cached);
        reference = Instance.start(Map.of("kvshare.prompt-cache.enabled", false));
    }

    @AfterAll
    void stop() {
        List.of(writer, reader, reference).forEach(Instance::close);
        redis.close();
    }

    @BeforeEach
    void redisRunningAndReaderCold() {
        if (!redis.isRunning()) {
            redis.start();
        }
        reader.bean(PromptCache.class).evictLocal();
    }

    enum Corruption {
        TRUNCATED(frame -> Arrays.copyOf(frame, frame.length / 2)),
        OVERSIZE(frame -> Arrays.copyOf(frame, frame.length + 1024)),
        CHECKSUM(frame -> flip(frame, 300)),
        FINGERPRINT(frame -> flip(frame, 8)),
        /** Someone with write access but without the key alters the KV and fixes the checksum. */
        HMAC_MISMATCH(frame -> recrc(flip(frame, 300), true)),
        /** ...or strips the signature and clears its flag. */
        HMAC_MISSING(frame -> {
            byte[] unsigned = Arrays.copyOf(frame, frame.length - HMAC);
            unsigned[7] &= ~1;
            return recrc(unsigned, false);
        });

        final UnaryOperator<byte[]> damage;

        Corruption(UnaryOperator<byte[]> damage) {
            this.damage = damage;
        }
    }

    @ParameterizedTest
    @EnumSource(Corruption.class)
    void aDamagedFrameIsAMissCountedByReasonAndReplacedWhileTheOutputStaysTheSame(Corruption corruption)
            throws Exception {
        String system = "Corruption " + corruption + ". " + TestPrompts.SUPPORT;
        JsonNode stored = chat(writer, system, "hello");
        String firstBlock = chainKeys(stored).get(0);
        try (RedisKeys keys = new RedisKeys(redis)) {
            byte[] original = awaitValue(keys, firstBlock);
            keys.set(firstBlock, corruption.damage.apply(original.clone()));

            JsonNode answer = chat(reader, system, "hello");
            assertThat(cached(answer)).isZero();
            assertThat(tokens(answer)).containsExactlyElementsOf(tokens(chat(reference, system, "hello")));
            assertThat(reader.metric("kvshare_prompt_cache_rejects_total",
                    "reason=\"" + corruption.name().toLowerCase() + "\"")).isGreaterThanOrEqualTo(1);
            // The bad frame was deleted, and the reader's own store put a good one back.
            for (int i = 0; i < 100 && !Arrays.equals(keys.get(firstBlock), original); i++) {
                Thread.sleep(50);
            }
            assertThat(keys.get(firstBlock)).isEqualTo(original);
        }
    }

    @Test
    void aFrameOfAnotherBlockUnderThisBlocksKeyIsRefused() throws Exception {
        String system = "Swapped frames. " + TestPrompts.SUPPORT;
        JsonNode stored = chat(writer, system, "hello");
        List<String> chain = chainKeys(stored);
        try (RedisKeys keys = new RedisKeys(redis)) {
            byte[] second = awaitValue(keys, chain.get(1));
            keys.set(chain.get(0), second);
            JsonNode answer = chat(reader, system, "hello");
            assertThat(cached(answer)).isZero();
            assertThat(reader.metric("kvshare_prompt_cache_rejects_total", "reason=\"hash\"")).isGreaterThanOrEqualTo(1);
            assertThat(tokens(answer)).containsExactlyElementsOf(tokens(chat(reference, system, "hello")));
        }
    }

    @Test
    void redisStoppedMeansComputingDegradedHealthAndRecoveryOnceItIsBack() throws Exception {
        String system = "Redis outage. " + TestPrompts.SUPPORT;
        List<Integer> expected = tokens(chat(reference, system, "where is my order"));
        redis.stop();

        assertThat(tokens(chat(reader, system, "where is my order"))).containsExactlyElementsOf(expected);
        JsonNode health = reader.http().get("/actuator/health").json();
        assertThat(health.path("components").path("promptCache").path("status").asString()).isEqualTo("DEGRADED");
        assertThat(reader.http().get("/actuator/health").status()).isEqualTo(200);
        assertThat(reader.http().get("/actuator/health/readiness").json().path("status").asString()).isEqualTo("UP");

        // Redis going away in the middle of a request changes nothing either.
        redis.start();
        reader.bean(PromptCache.class).evictLocal();
        CompletableFuture<JsonNode> during = CompletableFuture.supplyAsync(() -> chat(reader, system, "refund"));
        redis.stop();
        assertThat(tokens(during.get())).containsExactlyElementsOf(tokens(chat(reference, system, "refund")));

        redis.start();
        awaitPromptCacheUp(reader);
        // The writer's connection, idle through the outage, reconnects on its client's own back-off schedule:
        // a store sent before that times out, and is not retried.
        awaitPromptCacheUp(writer);
        RedisKeys.awaitAll(redis, chainKeys(chat(writer, "After recovery. " + system, "hello")));
    }

    private static void awaitPromptCacheUp(Instance instance) throws InterruptedException {
        String status = "";
        for (int i = 0; i < 300 && !status.equals("UP"); i++) {
            Thread.sleep(100);
            status = instance.http().get("/actuator/health").json().path("components").path("promptCache")
                    .path("status").asString();
        }
        assertThat(status).as("the prompt cache's health once Redis is back").isEqualTo("UP");
    }

    @Test
    void aStalledRedisDoesNotHoldTheRequestPastTheTimeout() throws Exception {
        String system = "Stalled Redis. " + TestPrompts.SUPPORT;
        List<Integer> expected = tokens(chat(reference, system, "hello"));
        try (RedisKeys keys = new RedisKeys(redis)) {
            // DEBUG SLEEP blocks the whole server for 4 s; the request must finish long before that.
            CompletableFuture<Void> stall = CompletableFuture.runAsync(() -> keys.redis.execute(
                    (org.springframework.data.redis.core.RedisCallback<Object>) c -> c.execute("DEBUG",
                            "SLEEP".getBytes(), "4".getBytes())));
            Thread.sleep(200);
            JsonNode answer = chat(reader, system, "hello");
            assertThat(stall).as("Redis was still stalled when the answer came").isNotDone();
            assertThat(tokens(answer)).containsExactlyElementsOf(expected);
            stall.join();
        }
    }

    private JsonNode chat(Instance instance, String system, String user) {
        var response = instance.http().post("/v1/chat/completions", """
                {"messages": [{"role": "system", "content": %s}, {"role": "user", "content": %s}],
                 "max_tokens": 10, "temperature": 0, "ignore_eos": true, "return_token_ids": true}"""
                .formatted(json(system), json(user)));
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        return response.json();
    }

    private static List<Integer> tokens(JsonNode response) {
        return ids(response.path("choices").path(0).path("token_ids"));
    }

    private List<String> chainKeys(JsonNode response) {
        return RedisKeys.chainKeys(fingerprint, BLOCK, ids(response.path("prompt_token_ids")),
                CacheNamespace.salt(CacheNamespace.ANONYMOUS, null));
    }

    private static byte[] awaitValue(RedisKeys keys, String key) throws InterruptedException {
        for (int i = 0; i < 100 && keys.get(key) == null; i++) {
            Thread.sleep(50);
        }
        byte[] value = keys.get(key);
        assertThat(value).as("frame stored under " + key).isNotNull();
        return value;
    }

    private static byte[] flip(byte[] frame, int offset) {
        frame[offset] ^= 0x10;
        return frame;
    }

    /** Recomputes the CRC32C as a forger can (it is not a secret); the HMAC, if any, is left as it was. */
    private static byte[] recrc(byte[] frame, boolean signed) {
        int crcAt = frame.length - CRC - (signed ? HMAC : 0);
        CRC32C crc = new CRC32C();
        crc.update(frame, 0, crcAt);
        ByteBuffer.wrap(frame).putInt(crcAt, (int) crc.getValue());
        return frame;
    }
}

package dev.kvshare.promptcache;

import static dev.kvshare.promptcache.PromptCacheReplicaIT.cached;
import static dev.kvshare.promptcache.PromptCacheReplicaIT.ids;
import static dev.kvshare.promptcache.PromptCacheReplicaIT.json;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import dev.kvshare.model.BundledModel;
import dev.kvshare.model.KvSpec;
import dev.kvshare.model.ModelFingerprint;
import dev.kvshare.model.ServedModel;
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
 * Replicas with {@code kvshare.prompt-cache.encryption-key} on one real Redis: after real requests no Redis value
 * holds a run of the prompt's token ids in any integer encoding, nor any piece of its KV; a frame under a
 * rotated-out key is read while listed in {@code decryption-keys} and refused once it is not; an altered or moved
 * frame is refused. Every refusal is a miss that leaves the answer unchanged.
 */
// Beside the serial integration tests (its own applications and Redis), but never during one that captures the
// output (docs/architecture.md, Tests); its tests one after another, on the same instances.
@Execution(ExecutionMode.CONCURRENT)
@ResourceLock(value = Resources.SYSTEM_OUT, mode = ResourceAccessMode.READ)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PromptCacheEncryptionIT {

    private static final int BLOCK = 16;
    private static final byte[] OLD_KEY = key(11);
    private static final byte[] NEW_KEY = key(12);
    private static final String SALT = CacheNamespace.salt(CacheNamespace.ANONYMOUS, null);

    private TestRedis redis;
    private byte[] fingerprint;
    private KvSpec spec;
    /** Encrypts under the old key. */
    private Instance oldKey;
    /** Encrypts under the new key and still reads the old one: mid-rotation. */
    private Instance rotating;
    /** The new key only: the rotation is over. */
    private Instance newKey;

    @BeforeAll
    void start() {
        redis = new TestRedis().start();
        fingerprint = ModelFingerprint.of(BundledModel.extract()).digest();
        Map<String, Object> shared = Map.of("kvshare.prompt-cache.block-size", BLOCK,
                "kvshare.prompt-cache.redis.enabled", true, "kvshare.prompt-cache.redis.timeout", "5s", "kvshare.prompt-cache.require-hmac", true,
                "spring.data.redis.host", redis.host(), "spring.data.redis.port", redis.port());
        oldKey = Instance.start(with(shared, Map.of("kvshare.prompt-cache.encryption-key",
                HexFormat.of().formatHex(OLD_KEY))));
        rotating = Instance.start(with(shared, Map.of("kvshare.prompt-cache.encryption-key", base64(NEW_KEY),
                "kvshare.prompt-cache.decryption-keys[0]", HexFormat.of().formatHex(OLD_KEY))));
        newKey = Instance.start(with(shared, Map.of("kvshare.prompt-cache.encryption-key", base64(NEW_KEY))));
        spec = oldKey.bean(ServedModel.class).decoder().io().kv();
    }

    @AfterAll
    void stop() {
        List.of(oldKey, rotating, newKey).forEach(Instance::close);
        redis.close();
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void noRedisValueHoldsThePromptsTokenIdsOrKv() throws Exception {
        JsonNode response = chat(oldKey, TestPrompts.SUPPORT, "Where is my refund for order 4417203?");
        List<Integer> prompt = ids(response.path("prompt_token_ids"));
        List<String> chain = RedisKeys.chainKeys(2, fingerprint, BLOCK, prompt, SALT);
        RedisKeys.awaitAll(redis, chain);

        List<byte[]> values = new ArrayList<>();
        List<byte[]> plainFrames = new ArrayList<>();
        try (RedisKeys keys = new RedisKeys(redis)) {
            assertThat(keys.keys("kvshare:*")).isNotEmpty().allMatch(key -> key.startsWith("kvshare:v2:"));
            keys.keys("kvshare:*").forEach(key -> values.add(keys.get(key)));
            plainFrames.addAll(decrypted(keys, chain, prompt));
        }
        assertThat(values).hasSizeGreaterThanOrEqualTo(chain.size());
        SortedWindows stored = new SortedWindows(values);
        SortedWindows plain = new SortedWindows(plainFrames);

        List<byte[]> tokenRuns = tokenRuns(prompt);
        List<byte[]> kvPieces = kvPieces(plainFrames);
        assertThat(tokenRuns).noneMatch(stored::contains);
        assertThat(kvPieces).noneMatch(stored::contains);
        // The same search does find them in the frames as they are before encryption: the check can fail.
        assertThat(tokenRuns).anyMatch(plain::contains);
        assertThat(kvPieces).allMatch(plain::contains);
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void aRotatedOutKeyIsReadWhileListedAndRefusedOnceRemoved() throws Exception {
        String system = "Key rotation check. " + TestPrompts.SUPPORT;
        JsonNode written = chat(oldKey, system, "first");
        RedisKeys.awaitAll(redis, RedisKeys.chainKeys(2, fingerprint, BLOCK, ids(written.path("prompt_token_ids")),
                SALT));

        JsonNode listed = chat(rotating, system, "second");
        assertThat(cached(listed)).isGreaterThan(600);
        assertThat(rotating.metric("kvshare_prompt_tokens_total", "source=\"redis\"")).isPositive();

        double unknownBefore = newKey.metric("kvshare_prompt_cache_rejects_total", "reason=\"unknown_key\"");
        JsonNode removed = chat(newKey, system, "second");
        assertThat(cached(removed)).isZero();
        assertThat(newKey.metric("kvshare_prompt_cache_rejects_total", "reason=\"unknown_key\""))
                .isEqualTo(unknownBefore + 1);
        assertThat(tokenIds(removed)).isEqualTo(tokenIds(listed));
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void alteredOrMovedFramesAreRefusedAndTheAnswerIsUnchanged() throws Exception {
        String system = "Tampering check. " + TestPrompts.SUPPORT;
        JsonNode cold = chat(oldKey, system, "question");
        List<String> chain = RedisKeys.chainKeys(2, fingerprint, BLOCK, ids(cold.path("prompt_token_ids")), SALT);
        RedisKeys.awaitAll(redis, chain);

        // Block 2's frame copied under block 1's key: block 0 is restored, block 1 refused.
        try (RedisKeys keys = new RedisKeys(redis)) {
            keys.set(chain.get(1), keys.get(chain.get(2)));
        }
        assertRefused(system, cold, BLOCK);

        // One bit of block 0's ciphertext flipped (the request above rewrote blocks 1 on, not block 0).
        try (RedisKeys keys = new RedisKeys(redis)) {
            byte[] altered = keys.get(chain.get(0));
            altered[altered.length / 2] ^= 0x10;
            keys.set(chain.get(0), altered);
        }
        assertRefused(system, cold, 0);
    }

    private void assertRefused(String system, JsonNode cold, int expectedCached) {
        oldKey.bean(PromptCache.class).evictLocal();
        double before = oldKey.metric("kvshare_prompt_cache_rejects_total", "reason=\"decryption\"");
        JsonNode again = chat(oldKey, system, "question");
        assertThat(cached(again)).isEqualTo(expectedCached);
        assertThat(oldKey.metric("kvshare_prompt_cache_rejects_total", "reason=\"decryption\"")).isEqualTo(before + 1);
        assertThat(tokenIds(again)).isEqualTo(tokenIds(cold));
    }

    /** The format-1 frames inside the chain's encrypted values, opened with the key they were written under. */
    private List<byte[]> decrypted(RedisKeys keys, List<String> chain, List<Integer> prompt) {
        KvCodec codec = new KvCodec(fingerprint, spec, BLOCK, FrameKeys.of(OLD_KEY, List.of()));
        KvCodec plain = new KvCodec(fingerprint, spec, BLOCK, Optional.empty());
        PrefixHasher hasher = new PrefixHasher(fingerprint, BLOCK);
        int[] ids = prompt.stream().mapToInt(Integer::intValue).toArray();
        List<BlockHash> hashes = hasher.chain(Arrays.copyOf(ids, ids.length - 1), SALT);
        List<byte[]> frames = new ArrayList<>();
        for (int i = 0; i < chain.size(); i++) {
            var decoded = codec.decode(keys.get(chain.get(i)), hashes.get(i), i == 0 ? hasher.seed(SALT)
                    : hashes.get(i - 1), Arrays.copyOfRange(ids, i * BLOCK, (i + 1) * BLOCK));
            assertThat(decoded).isInstanceOf(KvCodec.Decoded.Accepted.class);
            frames.add(plain.encode(((KvCodec.Decoded.Accepted) decoded).block()));
        }
        return frames;
    }

    /** Every run of 4 consecutive prompt ids as int16, int32 and int64, big- and little-endian. */
    private static List<byte[]> tokenRuns(List<Integer> prompt) {
        List<byte[]> runs = new ArrayList<>();
        for (int width : new int[] {2, 4, 8}) {
            for (ByteOrder order : new ByteOrder[] {ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN}) {
                for (int start = 0; start + 4 <= prompt.size(); start++) {
                    ByteBuffer run = ByteBuffer.allocate(4 * width).order(order);
                    for (int id : prompt.subList(start, start + 4)) {
                        switch (width) {
                            case 2 -> run.putShort((short) id);
                            case 4 -> run.putInt(id);
                            default -> run.putLong(id);
                        }
                    }
                    runs.add(run.array());
                }
            }
        }
        return runs;
    }

    /** 16-byte pieces of the KV payloads, one every 509 bytes, skipping the all-zero ones. */
    private static List<byte[]> kvPieces(List<byte[]> plainFrames) {
        List<byte[]> pieces = new ArrayList<>();
        for (byte[] frame : plainFrames) {
            int payloadStart = 122 + 4 * BLOCK;
            for (int at = payloadStart; at + 16 <= frame.length - 4; at += 509) {
                byte[] piece = Arrays.copyOfRange(frame, at, at + 16);
                if (!Arrays.equals(piece, new byte[16])) {
                    pieces.add(piece);
                }
            }
        }
        return pieces;
    }

    /** Every 8-byte window of some byte arrays, sorted: whether a pattern occurs is a binary search. */
    private static final class SortedWindows {

        private final long[] windows;
        private final List<byte[]> arrays;

        SortedWindows(List<byte[]> arrays) {
            this.arrays = arrays;
            int total = arrays.stream().mapToInt(a -> Math.max(0, a.length - 7)).sum();
            windows = new long[total];
            int n = 0;
            for (byte[] array : arrays) {
                ByteBuffer buffer = ByteBuffer.wrap(array);
                for (int i = 0; i + 8 <= array.length; i++) {
                    windows[n++] = buffer.getLong(i);
                }
            }
            Arrays.sort(windows);
        }

        /** Whether {@code pattern} (at least 8 bytes) occurs in one of the arrays. */
        boolean contains(byte[] pattern) {
            if (Arrays.binarySearch(windows, ByteBuffer.wrap(pattern).getLong(0)) < 0) {
                return false;
            }
            return arrays.stream().anyMatch(array -> KvCodecEncryptionTest.indexOf(array, pattern) >= 0);
        }
    }

    private static JsonNode chat(Instance instance, String system, String user) {
        String body = """
                {"messages": [{"role": "system", "content": %s}, {"role": "user", "content": %s}],
                 "max_tokens": 12, "temperature": 0, "ignore_eos": true, "return_token_ids": true}"""
                .formatted(json(system), json(user));
        var response = instance.http().post("/v1/chat/completions", body);
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        return response.json();
    }

    private static List<Integer> tokenIds(JsonNode response) {
        return ids(response.path("choices").path(0).path("token_ids"));
    }

    private static Map<String, Object> with(Map<String, Object> shared, Map<String, Object> own) {
        Map<String, Object> all = new java.util.HashMap<>(shared);
        all.putAll(own);
        return all;
    }

    private static byte[] key(int seed) {
        byte[] key = new byte[FrameKeys.KEY_LENGTH];
        new Random(seed).nextBytes(key);
        return key;
    }

    private static String base64(byte[] key) {
        return Base64.getEncoder().encodeToString(key);
    }
}

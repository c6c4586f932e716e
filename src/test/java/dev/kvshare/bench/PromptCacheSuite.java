package dev.kvshare.bench;

import static dev.kvshare.bench.Report.f;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import dev.kvshare.model.KvBlocks;
import dev.kvshare.model.KvCache;
import dev.kvshare.model.KvSpec;
import dev.kvshare.model.ModelFingerprint;
import dev.kvshare.promptcache.BlockHash;
import dev.kvshare.promptcache.CacheNamespace;
import dev.kvshare.promptcache.KvCodec;
import dev.kvshare.promptcache.PrefixHasher;
import dev.kvshare.promptcache.PromptCache;
import dev.kvshare.model.ServedModel;
import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.Instance;
import dev.kvshare.testsupport.TestRedis;
import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;

/**
 * Suite 3: time to first token for long system prompts — a cold prefill, a local-tier hit and a Redis hit on a
 * replica that never saw the prompt — next to the physical floor of a hit: a bare Redis MGET of the same
 * frames plus the copy of their KV into past tensors.
 */
final class PromptCacheSuite implements Suite {

    @Override
    public void run(BenchContext context, Report report) throws Exception {
        Path qwen = context.benchModel("qwen2.5-0.5b");
        boolean realShape = Files.isDirectory(qwen);
        String label = realShape ? "Qwen2.5-0.5B shape (random weights)" : "bundled (kvshare-support-tiny)";
        report.section("3. Prompt cache: time to first token", """
                One instance computes a prompt (cold: a fresh `cache_salt` makes it new to every tier) and answers
                it again from its local tier; a second instance, sharing one Redis and with its local tier
                emptied, restores it from Redis. Each request is a one-token completion over HTTP, so its time is
                the time to first token. The floor is what a Redis hit cannot beat: one MGET of the same frames
                plus copying their KV into past tensors, without HTTP, checks or the last prompt token's step.
                Model: %s; block size chosen by the service.""".formatted(label));
        List<Integer> sizes = context.quick() ? List.of(512) : realShape ? List.of(512, 2048, 8192) : List.of(512, 960);
        try (TestRedis redis = new TestRedis().start()) {
            Map<String, Object> properties = new LinkedHashMap<>();
            if (realShape) {
                properties.put("kvshare.model.path", qwen);
            }
            properties.put("kvshare.prompt-cache.redis.enabled", true);
            properties.put("kvshare.prompt-cache.redis.timeout", "10s");
            properties.put("kvshare.prompt-cache.local.max-bytes", 2L << 30);
            properties.put("spring.data.redis.host", redis.host());
            properties.put("spring.data.redis.port", redis.port());
            properties.put("logging.level.root", "warn");
            try (Instance writer = Instance.start(properties); Instance replica = Instance.start(properties);
                 RedisClient client = RedisClient.create(RedisURI.create(redis.host(), redis.port()));
                 StatefulRedisConnection<byte[], byte[]> connection = client.connect(ByteArrayCodec.INSTANCE)) {
                ServedModel model = writer.bean(ServedModel.class);
                Floor floor = new Floor(model, writer.bean(PromptCache.class).blockSize(), connection);
                List<List<String>> rows = new ArrayList<>();
                for (int size : sizes) {
                    rows.add(measure(size, context.repetitions(size >= 8192 ? 1 : 3, 1), writer, replica, floor,
                            model.decoder().io().vocabSize(), report, label));
                }
                report.table("prompt-cache-ttft", List.of("prompt tokens", "cached tokens", "cold ms",
                        "local hit ms", "Redis hit ms", "floor ms", "local vs cold", "Redis vs cold",
                        "Redis hit / floor"), rows);
            }
        }
    }

    private static List<String> measure(int size, int repetitions, Instance writer, Instance replica, Floor floor,
                                        int vocab, Report report, String label) throws Exception {
        int[] prompt = new Random(size).ints(size, 0, Math.min(vocab, 30000)).toArray();
        List<Double> cold = new ArrayList<>();
        List<Double> local = new ArrayList<>();
        List<Double> remote = new ArrayList<>();
        List<Double> floorMillis = new ArrayList<>();
        int cached = 0;
        for (int rep = 0; rep < repetitions; rep++) {
            String salt = "bench-" + size + "-" + rep + "-" + System.nanoTime();
            cold.add(timed(writer.http(), prompt, salt).millis());
            local.add(timed(writer.http(), prompt, salt).millis());
            replica.bean(PromptCache.class).evictLocal();
            Thread.sleep(500 + size / 10); // the writer's Redis store runs in the background
            Timed hit = timed(replica.http(), prompt, salt);
            remote.add(hit.millis());
            cached = hit.cached();
            floorMillis.add(floor.millis(prompt, salt));
        }
        double c = Report.median(cold);
        double l = Report.median(local);
        double r = Report.median(remote);
        double fl = Report.median(floorMillis);
        report.headline("Time to first token, " + label + ", " + size + "-token prompt: cold " + f(c, 0) + " ms, local hit "
                + f(l, 0) + " ms (" + f(c / l, 1) + "x), Redis hit " + f(r, 0) + " ms (" + f(c / r, 1) + "x); floor "
                + f(fl, 0) + " ms");
        return List.of(Integer.toString(size), Integer.toString(cached), f(c, 0), f(l, 0), f(r, 0), f(fl, 1),
                f(c / l, 1) + "x", f(c / r, 1) + "x", f(r / fl, 1) + "x");
    }

    private record Timed(double millis, int cached) {
    }

    private static Timed timed(Http http, int[] prompt, String salt) {
        long start = System.nanoTime();
        Http.Response response = http.post("/v1/completions", "{\"prompt\": " + Arrays.toString(prompt)
                + ", \"max_tokens\": 1, \"cache_salt\": \"" + salt + "\"}");
        double millis = (System.nanoTime() - start) / 1e6;
        if (response.status() != 200) {
            throw new IllegalStateException(response.body());
        }
        return new Timed(millis, response.json().path("usage").path("prompt_tokens_details").path("cached_tokens").asInt());
    }

    /** A bare MGET of a prompt's frames and the copy of their payloads into past tensors. */
    private static final class Floor {
        private final PrefixHasher hasher;
        private final String keyPrefix;
        private final KvBlocks blocks;
        private final KvSpec spec;
        private final int blockSize;
        private final StatefulRedisConnection<byte[], byte[]> redis;

        Floor(ServedModel model, int blockSize, StatefulRedisConnection<byte[], byte[]> redis) {
            byte[] fingerprint = ModelFingerprint.of(model.files()).digest();
            this.hasher = new PrefixHasher(fingerprint, blockSize);
            this.keyPrefix = "kvshare:v" + KvCodec.FORMAT_VERSION + ":" + new ModelFingerprint(fingerprint).hex() + ":";
            this.spec = model.decoder().io().kv();
            this.blocks = model.decoder().kvBlocks();
            this.blockSize = blockSize;
            this.redis = redis;
        }

        double millis(int[] prompt, String cacheSalt) {
            List<BlockHash> chain = hasher.chain(Arrays.copyOf(prompt, prompt.length - 1),
                    CacheNamespace.salt(CacheNamespace.ANONYMOUS, cacheSalt));
            byte[][] keys = chain.stream().map(h -> (keyPrefix + h.hex()).getBytes(StandardCharsets.US_ASCII))
                    .toArray(byte[][]::new);
            int payloadOffset = 122 + 4 * blockSize;
            int payloadBytes = blocks.payloadBytes(blockSize);
            long start = System.nanoTime();
            List<KeyValue<byte[], byte[]>> values = redis.sync().mget(keys);
            List<ByteBuffer> payloads = values.stream()
                    .map(v -> ByteBuffer.wrap(v.getValue(), payloadOffset, payloadBytes).slice().order(ByteOrder.LITTLE_ENDIAN))
                    .toList();
            try (KvCache restored = blocks.assemble(payloads, blockSize)) {
                return (System.nanoTime() - start) / 1e6;
            }
        }
    }
}

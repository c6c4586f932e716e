package dev.kvshare.bench;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

import ai.onnxruntime.OnnxJavaType;
import dev.kvshare.model.KvLayout;
import dev.kvshare.model.KvSpec;
import dev.kvshare.promptcache.BlockHash;
import dev.kvshare.promptcache.FrameKeys;
import dev.kvshare.promptcache.KvBlock;
import dev.kvshare.promptcache.KvCodec;
import dev.kvshare.promptcache.PrefixHasher;

/**
 * Suite 4: {@link KvCodec} encode and decode throughput, with the CRC32C checksum only, with HMAC-SHA256 and
 * encrypted with AES-256-GCM, next to a plain memory copy of the same number of payload bytes. A hand-written timing loop in the
 * harness's JVM (JMH would fork JVMs of its own): warm-up rounds, then repetitions in which every variant
 * of every frame shape runs once, in a rotating order, each over at least 200 MB.
 */
final class CodecSuite implements Suite {

    private static final int BLOCK_TOKENS = 64;
    private static final double GB = 1e9;
    private static final double MIB = 1 << 20;

    /** The Qwen2.5-0.5B KV shape: 24 layers, 2 KV heads, head dim 64. */
    private record Shape(String name, KvSpec spec) {
    }

    private enum Variant {
        CHECKSUM("CRC32C", Op.ENCODE_CHECKSUM, Op.DECODE_CHECKSUM),
        HMAC("CRC32C + HMAC-SHA256", Op.ENCODE_HMAC, Op.DECODE_HMAC),
        GCM("CRC32C + AES-256-GCM", Op.ENCODE_GCM, Op.DECODE_GCM);

        final String label;
        final Op encode;
        final Op decode;

        Variant(String label, Op encode, Op decode) {
            this.label = label;
            this.encode = encode;
            this.decode = decode;
        }
    }

    /** Operations timed per shape; memcpy and direct put do not depend on the codec variant. */
    private enum Op {
        ENCODE_CHECKSUM, DECODE_CHECKSUM, ENCODE_HMAC, DECODE_HMAC, ENCODE_GCM, DECODE_GCM, ARRAYCOPY, DIRECT_PUT
    }

    /** Keeps results observable so the JIT cannot drop the work. */
    private long sink;

    @Override
    public void run(BenchContext context, Report report) throws Exception {
        List<Shape> shapes = List.of(
                new Shape("Qwen2.5-0.5B fp32", new KvSpec(KvLayout.SPLIT, 24, 2, 64, OnnxJavaType.FLOAT)),
                new Shape("Qwen2.5-0.5B fp16", new KvSpec(KvLayout.SPLIT, 24, 2, 64, OnnxJavaType.FLOAT16)));
        int repetitions = context.repetitions(7, 3);
        int warmups = context.repetitions(2, 1);
        long bytesPerMeasurement = context.quick() ? 200_000_000L : 256L << 20;

        SplittableRandom random = new SplittableRandom(42);
        List<Fixture> fixtures = new ArrayList<>();
        for (Shape shape : shapes) {
            fixtures.add(new Fixture(shape, random, bytesPerMeasurement));
        }

        // gbps.get(fixture).get(op) = one GB/s figure per repetition
        List<Map<Op, List<Double>>> gbps = new ArrayList<>();
        fixtures.forEach(f -> {
            Map<Op, List<Double>> perOp = new LinkedHashMap<>();
            for (Op op : Op.values()) {
                perOp.put(op, new ArrayList<>());
            }
            gbps.add(perOp);
        });
        Op[] ops = Op.values();
        for (int rep = -warmups; rep < repetitions; rep++) {
            int rotation = Math.floorMod(rep, ops.length);
            for (int i = 0; i < fixtures.size(); i++) {
                Fixture fixture = fixtures.get(i);
                for (int k = 0; k < ops.length; k++) {
                    Op op = ops[(k + rotation) % ops.length];
                    double seconds = fixture.time(op);
                    if (rep >= 0) {
                        gbps.get(i).get(op).add(fixture.payload.length * (double) fixture.iterations / seconds / GB);
                    }
                }
            }
        }

        report.section("Codec throughput (suite 4)", """
                Encode and decode throughput of `KvCodec` frames for one %d-token block of the Qwen2.5-0.5B KV shape
                (split layout, 24 layers, 2 KV heads, head dim 64) in fp32 (1.5 MiB payload) and fp16 (0.75 MiB),
                random payload bytes, a random 32-byte model fingerprint and real chained block hashes. *Encode*
                builds a frame from a block (header, token ids, payload copy, CRC32C, and the HMAC when a key is
                set, then the AES-256-GCM encryption of the whole frame when an encryption key is set); *decode*
                checks a frame against the expected hash, parent and token ids and accepts it (every decode is
                checked to be accepted; an encrypted frame is decrypted into a new array first); the payload comes
                back as a view, not a copy. Three codec variants: checksum only (no key), with HMAC-SHA256
                (`kvshare.prompt-cache.hmac-key`) and encrypted (`kvshare.prompt-cache.encryption-key`, javax.crypto
                `AES/GCM/NoPadding` of the JDK below, a fresh nonce per frame). The baselines
                move the same payload bytes with no framing at all: `System.arraycopy` into a heap array of the
                payload's size, and a `put` of the payload array into a direct `ByteBuffer`.

                GB/s = payload bytes (10^9) per second; frame overhead is %d header + token bytes and is not
                counted. Each figure is the median of %d repetitions over %d MB each (after %d warm-up round(s));
                within a repetition every operation of every shape runs once, in an order that rotates between
                repetitions. The ratio columns are medians of the per-repetition ratios, each taken against the
                memcpy measured in the same repetition: decode/memcpy = 1 would mean the checks cost nothing over
                copying the bytes once; HMAC-SHA256 or AES-GCM is expected to dominate wherever it is on. This is a
                hand-written loop in the benchmark JVM (JMH would fork JVMs outside this harness), single-threaded;
                on a shared machine read the ratios rather than the absolute figures. The same source and target
                buffers are reused on every iteration, so at these sizes they largely stay in the CPU caches: the
                memcpy figure is closer to cache than to DRAM bandwidth (in the service a frame arrives cold from
                the network, and copies and checks alike would run nearer memory speed).
                """.formatted(BLOCK_TOKENS, 122 + 4 * BLOCK_TOKENS + 4, repetitions,
                bytesPerMeasurement / 1_000_000, warmups));

        List<List<String>> rows = new ArrayList<>();
        double headlineDecode = 0;
        double headlineDecodeHmac = 0;
        double headlineDecodeGbps = 0;
        double headlineDecodeHmacGbps = 0;
        double headlineDecodeGcmGbps = 0;
        double headlineEncodeGcmGbps = 0;
        double headlineEncodeHmacGbps = 0;
        for (int i = 0; i < fixtures.size(); i++) {
            Fixture fixture = fixtures.get(i);
            Map<Op, List<Double>> results = gbps.get(i);
            double memcpy = Report.median(results.get(Op.ARRAYCOPY));
            double direct = Report.median(results.get(Op.DIRECT_PUT));
            for (Variant variant : Variant.values()) {
                Op encode = variant.encode;
                Op decode = variant.decode;
                double decodeRatio = medianRatio(results.get(decode), results.get(Op.ARRAYCOPY));
                double encodeRatio = medianRatio(results.get(encode), results.get(Op.ARRAYCOPY));
                rows.add(List.of(fixture.shape.name, Report.f(fixture.payload.length / MIB, 2), variant.label,
                        Report.f(Report.median(results.get(encode)), 2),
                        Report.f(Report.median(results.get(decode)), 2),
                        Report.f(memcpy, 2), Report.f(direct, 2), Report.f(encodeRatio, 3),
                        Report.f(decodeRatio, 3)));
                if (i == 0) {
                    switch (variant) {
                        case HMAC -> {
                            headlineDecodeHmac = decodeRatio;
                            headlineDecodeHmacGbps = Report.median(results.get(decode));
                            headlineEncodeHmacGbps = Report.median(results.get(encode));
                        }
                        case GCM -> {
                            headlineDecodeGcmGbps = Report.median(results.get(decode));
                            headlineEncodeGcmGbps = Report.median(results.get(encode));
                        }
                        default -> {
                            headlineDecode = decodeRatio;
                            headlineDecodeGbps = Report.median(results.get(decode));
                        }
                    }
                }
            }
        }
        report.table("codec-throughput", List.of("frame", "payload MiB", "variant", "encode GB/s", "decode GB/s",
                "memcpy GB/s", "direct put GB/s", "encode/memcpy", "decode/memcpy"), rows);
        report.headline(("KvCodec decode of a 1.5 MiB fp32 Qwen2.5-0.5B block: %s GB/s with the checksum only (%s× a "
                + "plain memcpy), %s GB/s with HMAC-SHA256 (%s× memcpy)").formatted(
                Report.f(headlineDecodeGbps, 2), Report.f(headlineDecode, 2), Report.f(headlineDecodeHmacGbps, 2),
                Report.f(headlineDecodeHmac, 3)));
        report.headline(("KvCodec encrypted with AES-256-GCM, 1.5 MiB fp32 block: encode %s GB/s, decode %s GB/s "
                + "(with HMAC-SHA256 in the same run: encode %s, decode %s GB/s)").formatted(
                Report.f(headlineEncodeGcmGbps, 2), Report.f(headlineDecodeGcmGbps, 2),
                Report.f(headlineEncodeHmacGbps, 2), Report.f(headlineDecodeHmacGbps, 2)));
        if (sink == 42) {
            System.out.println("(sink)");
        }
    }

    private static double medianRatio(List<Double> numerators, List<Double> denominators) {
        List<Double> ratios = new ArrayList<>();
        for (int i = 0; i < numerators.size(); i++) {
            ratios.add(numerators.get(i) / denominators.get(i));
        }
        return Report.median(ratios);
    }

    /** One frame shape: its block, codecs, encoded frames and copy targets. */
    private final class Fixture {

        final Shape shape;
        final byte[] payload;
        final KvBlock block;
        final KvCodec checksum;
        final KvCodec hmac;
        final KvCodec gcm;
        final byte[] checksumFrame;
        final byte[] hmacFrame;
        final byte[] gcmFrame;
        final BlockHash hash;
        final BlockHash parent;
        final int[] tokenIds;
        final byte[] copyTarget;
        final ByteBuffer directTarget;
        final int iterations;

        Fixture(Shape shape, SplittableRandom random, long bytesPerMeasurement) {
            this.shape = shape;
            byte[] fingerprint = new byte[KvCodec.FINGERPRINT_LENGTH];
            random.nextBytes(fingerprint);
            byte[] key = new byte[32];
            random.nextBytes(key);
            payload = new byte[Math.toIntExact(KvBlock.payloadLength(shape.spec, BLOCK_TOKENS))];
            random.nextBytes(payload);
            tokenIds = random.ints(BLOCK_TOKENS, 0, 151_936).toArray();
            PrefixHasher hasher = new PrefixHasher(fingerprint, BLOCK_TOKENS);
            parent = hasher.seed("");
            hash = hasher.chain(tokenIds, "").get(0);
            block = new KvBlock(hash, parent, tokenIds, ByteBuffer.wrap(payload));
            checksum = new KvCodec(fingerprint, shape.spec, BLOCK_TOKENS, Optional.empty());
            hmac = new KvCodec(fingerprint, shape.spec, BLOCK_TOKENS, Optional.of(key));
            gcm = new KvCodec(fingerprint, shape.spec, BLOCK_TOKENS, FrameKeys.of(key, List.of()));
            checksumFrame = checksum.encode(block);
            hmacFrame = hmac.encode(block);
            gcmFrame = gcm.encode(block);
            copyTarget = new byte[payload.length];
            directTarget = ByteBuffer.allocateDirect(payload.length);
            iterations = (int) Math.ceil(bytesPerMeasurement / (double) payload.length);
            // Both frames must be accepted before anything is timed.
            decode(checksum, checksumFrame);
            decode(hmac, hmacFrame);
            decode(gcm, gcmFrame);
        }

        /** Seconds for {@link #iterations} runs of {@code op}. */
        double time(Op op) {
            long start = System.nanoTime();
            long local = 0;
            for (int n = 0; n < iterations; n++) {
                local += switch (op) {
                    case ENCODE_CHECKSUM -> checksum.encode(block)[n % 1000 + 200];
                    case ENCODE_HMAC -> hmac.encode(block)[n % 1000 + 200];
                    case DECODE_CHECKSUM -> decode(checksum, checksumFrame);
                    case DECODE_HMAC -> decode(hmac, hmacFrame);
                    case ENCODE_GCM -> gcm.encode(block)[n % 1000 + 200];
                    case DECODE_GCM -> decode(gcm, gcmFrame);
                    case ARRAYCOPY -> {
                        System.arraycopy(payload, 0, copyTarget, 0, payload.length);
                        yield copyTarget[n % payload.length];
                    }
                    case DIRECT_PUT -> directTarget.clear().put(payload).get(n % payload.length);
                };
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            sink += local;
            return seconds;
        }

        private long decode(KvCodec codec, byte[] frame) {
            if (!(codec.decode(frame, hash, parent, tokenIds) instanceof KvCodec.Decoded.Accepted accepted)) {
                throw new IllegalStateException("frame rejected: " + codec.decode(frame, hash, parent, tokenIds));
            }
            return accepted.block().payloadLength();
        }
    }
}

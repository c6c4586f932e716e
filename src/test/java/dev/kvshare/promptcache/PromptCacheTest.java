package dev.kvshare.promptcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;

import dev.kvshare.model.TokenRange;
import dev.kvshare.observability.Spans;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

/**
 * The prompt cache's policy with hand-made payloads and no model: a token's "KV" is its id, so a restored prefix
 * reads back as the tokens it covers. The local tier only (Redis is exercised by the integration tests).
 */
class PromptCacheTest {

    private static final int BLOCK = 4;

    /** Every range copied, in the order asked. */
    private final List<TokenRange> copied = new ArrayList<>();

    private PromptCache cache(Executor copier) {
        return new PromptCache(new PrefixHasher(new byte[] {1, 2, 3}, BLOCK), new LocalKvStore(1 << 20),
                Optional.empty(), new FetchOrCompute(), new PromptCacheMetrics(new SimpleMeterRegistry(), "test"),
                copier, Runnable::run, Spans.NONE, Duration.ofMinutes(1), LocalTierEvents.NONE);
    }

    /** The KV of {@code tokens}: each range's payload holds its token ids. */
    private PayloadSource kvOf(int[] tokens) {
        return ranges -> {
            copied.addAll(ranges);
            return ranges.stream().map(range -> {
                ByteBuffer payload = ByteBuffer.allocate(Integer.BYTES * range.length()).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < range.length(); i++) {
                    payload.putInt(i * Integer.BYTES, tokens[range.from() + i]);
                }
                return payload;
            }).toList();
        };
    }

    private PayloadSource.Held held(int[] tokens, AtomicBoolean closed) {
        PayloadSource kv = kvOf(tokens);
        return new PayloadSource.Held() {
            @Override
            public List<ByteBuffer> copy(List<TokenRange> ranges) {
                assertThat(closed).as("copied while held").isFalse();
                return kv.copy(ranges);
            }

            @Override
            public void close() {
                closed.set(true);
            }
        };
    }

    /** The tokens a lookup's found blocks cover, read from their payloads. */
    private static int[] restored(PromptCache.Lookup lookup) {
        return lookup.blocks().stream().flatMapToInt(found -> {
            ByteBuffer payload = found.block().payload();
            return IntStream.range(0, found.tokens()).map(i -> payload.getInt(i * Integer.BYTES));
        }).toArray();
    }

    private static int[] tokens(int from, int count) {
        return IntStream.range(from, from + count).toArray();
    }

    private static int[] concat(int[] a, int[] b) {
        int[] joined = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, joined, a.length, b.length);
        return joined;
    }

    private void prefill(PromptCache cache, int[] prompt) {
        try (PromptCache.Lookup lookup = cache.lookup(prompt, "salt")) {
            lookup.store(() -> held(prompt, new AtomicBoolean()));
        }
    }

    @Test
    void findsTheLongestStoredPrefixAndCopiesOnlyTheBlocksItLacks() {
        PromptCache cache = cache(Runnable::run);
        int[] first = tokens(100, 2 * BLOCK + 1);
        prefill(cache, first);
        assertThat(copied).containsExactly(new TokenRange(0, BLOCK), new TokenRange(BLOCK, BLOCK));

        copied.clear();
        int[] longer = concat(Arrays.copyOf(first, 2 * BLOCK), tokens(500, 2 * BLOCK + 1));
        AtomicBoolean closed = new AtomicBoolean();
        try (PromptCache.Lookup lookup = cache.lookup(longer, "salt")) {
            assertThat(lookup.cachedTokens()).isEqualTo(2 * BLOCK);
            assertThat(lookup.localTokens()).isEqualTo(2 * BLOCK);
            assertThat(restored(lookup)).containsExactly(Arrays.copyOf(first, 2 * BLOCK));
            lookup.store(() -> held(longer, closed));
        }
        assertThat(copied).as("only the missing blocks").containsExactly(new TokenRange(2 * BLOCK, BLOCK),
                new TokenRange(3 * BLOCK, BLOCK));
        assertThat(closed).as("the KV is let go once copied").isTrue();

        try (PromptCache.Lookup lookup = cache.lookup(longer, "salt")) {
            assertThat(restored(lookup)).containsExactly(Arrays.copyOf(longer, 4 * BLOCK));
        }
        try (PromptCache.Lookup lookup = cache.lookup(longer, "another salt")) {
            assertThat(lookup.blocks()).as("another salt shares nothing").isEmpty();
        }
    }

    @Test
    void aPromptStoredWholeAsksForNoKv() {
        PromptCache cache = cache(Runnable::run);
        int[] prompt = tokens(7, 2 * BLOCK + 1);
        prefill(cache, prompt);
        copied.clear();
        try (PromptCache.Lookup lookup = cache.lookup(prompt, "salt")) {
            lookup.store(() -> {
                throw new AssertionError("nothing is missing: the KV is not even held");
            });
        }
        assertThat(copied).isEmpty();
    }

    @Test
    void usesAPartialLastBlockAsFarAsItsTokensMatchThePrompt() {
        PromptCache cache = cache(Runnable::run);
        int[] prompt = tokens(100, BLOCK + 1);
        int[] fed = concat(prompt, tokens(200, 2)); // one full block and a 3-token tail
        try (PromptCache.Lookup lookup = cache.lookup(prompt, "salt")) {
            lookup.store(() -> held(prompt, new AtomicBoolean()));
            lookup.storeSequence(kvOf(fed), fed);
        }

        int[] next = concat(Arrays.copyOf(fed, BLOCK + 2), tokens(900, 5)); // the tail's first 2 tokens, then others
        try (PromptCache.Lookup lookup = cache.lookup(next, "salt")) {
            assertThat(lookup.cachedTokens()).isEqualTo(BLOCK + 2);
            assertThat(lookup.blocks()).extracting(PromptCache.FoundBlock::tokens).containsExactly(BLOCK, 2);
            assertThat(restored(lookup)).containsExactly(Arrays.copyOf(fed, BLOCK + 2));
        }
        int[] repeat = concat(fed, tokens(900, 1));
        try (PromptCache.Lookup lookup = cache.lookup(repeat, "salt")) {
            assertThat(restored(lookup)).as("the whole tail: the last prompt token is computed anyway")
                    .containsExactly(fed);
        }
        int[] differs = concat(Arrays.copyOf(fed, BLOCK), tokens(900, 4));
        try (PromptCache.Lookup lookup = cache.lookup(differs, "salt")) {
            assertThat(lookup.blocks()).as("a tail whose first token differs is not used").hasSize(1);
        }
    }

    /** A request for {@code prompt} that fed {@code fed} (the prompt and its reply but the last token) and finished. */
    private void finish(PromptCache cache, int[] prompt, int[] fed) {
        try (PromptCache.Lookup lookup = cache.lookup(prompt, "salt")) {
            lookup.store(() -> held(prompt, new AtomicBoolean()));
            lookup.storeSequence(kvOf(fed), fed);
        }
    }

    @Test
    void aFinishedSequenceCopiesOnlyWhatTheLocalTierLacks() {
        PromptCache cache = cache(Runnable::run);
        int[] prompt = tokens(100, 2 * BLOCK);
        int[] fed = concat(prompt, tokens(200, 2)); // two full blocks and a 2-token tail
        finish(cache, prompt, fed);
        assertThat(copied).containsExactly(new TokenRange(0, BLOCK), // the prompt's stored blocks
                new TokenRange(BLOCK, BLOCK), new TokenRange(2 * BLOCK, 2), new TokenRange(BLOCK, BLOCK - 1));

        copied.clear();
        finish(cache, prompt, fed);
        assertThat(copied).as("the same prompt and reply again: everything is held").isEmpty();

        int[] otherReply = concat(prompt, tokens(300, 2));
        finish(cache, prompt, otherReply);
        assertThat(copied).as("another reply: its tail alone").containsExactly(new TokenRange(2 * BLOCK, 2));
        try (PromptCache.Lookup lookup = cache.lookup(concat(otherReply, tokens(900, 1)), "salt")) {
            assertThat(restored(lookup)).containsExactly(otherReply);
        }
        try (PromptCache.Lookup lookup = cache.lookup(prompt, "salt")) {
            assertThat(restored(lookup)).as("a repeat of the prompt computes its last token alone")
                    .containsExactly(Arrays.copyOf(prompt, prompt.length - 1));
        }
    }

    @Test
    void twoLookupsOfOneMissingPrefixComputeItOnce() throws Exception {
        List<Runnable> queued = new ArrayList<>();
        PromptCache cache = cache(queued::add);
        int[] prompt = tokens(100, 3 * BLOCK + 1);
        try (PromptCache.Lookup leader = cache.lookup(prompt, "salt")) {
            assertThat(leader.blocks()).isEmpty();
            CompletableFuture<int[]> follower = new CompletableFuture<>();
            Thread waiting = new Thread(() -> {
                try (PromptCache.Lookup lookup = cache.lookup(prompt, "salt")) {
                    follower.complete(restored(lookup));
                } catch (Throwable e) {
                    follower.completeExceptionally(e);
                }
            });
            waiting.start();
            while (waiting.getState() != Thread.State.TIMED_WAITING && !follower.isDone()) {
                Thread.onSpinWait();
            }
            assertThat(follower).as("the follower waits for the leader's store").isNotDone();

            leader.store(() -> held(prompt, new AtomicBoolean()));
            queued.forEach(Runnable::run);

            assertThat(follower.get()).as("found in the local tier").containsExactly(Arrays.copyOf(prompt, 3 * BLOCK));
            waiting.join();
        }
        assertThat(copied).as("copied once").hasSize(3);
    }

    @Test
    void aFailingStoreNeverThrowsAndLetsTheNextLookupCompute() {
        PromptCache cache = cache(Runnable::run);
        int[] prompt = tokens(100, 2 * BLOCK + 1);
        AtomicBoolean closed = new AtomicBoolean();
        try (PromptCache.Lookup lookup = cache.lookup(prompt, "salt")) {
            PayloadSource.Held failing = new PayloadSource.Held() {
                @Override
                public List<ByteBuffer> copy(List<TokenRange> ranges) {
                    throw new IllegalStateException("the tensors are gone");
                }

                @Override
                public void close() {
                    closed.set(true);
                }
            };
            assertThatCode(() -> lookup.store(() -> failing)).doesNotThrowAnyException();
        }
        assertThat(closed).isTrue();
        try (PromptCache.Lookup lookup = cache.lookup(prompt, "salt")) {
            assertThat(lookup.blocks()).as("nothing stored, and no leader left to wait for").isEmpty();
        }
    }

    @Test
    void aCopierThatIsBehindStoresNothingAndLetsTheKvGo() {
        PromptCache cache = cache(task -> {
            throw new RejectedExecutionException("behind");
        });
        int[] prompt = tokens(100, 2 * BLOCK + 1);
        AtomicBoolean closed = new AtomicBoolean();
        try (PromptCache.Lookup lookup = cache.lookup(prompt, "salt")) {
            assertThatCode(() -> lookup.store(() -> held(prompt, closed))).doesNotThrowAnyException();
        }
        assertThat(closed).isTrue();
        assertThat(copied).isEmpty();
        try (PromptCache.Lookup lookup = cache.lookup(prompt, "salt")) {
            assertThat(lookup.blocks()).isEmpty();
        }
    }
}

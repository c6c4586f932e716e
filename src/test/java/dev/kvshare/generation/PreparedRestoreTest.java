package dev.kvshare.generation;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;

import dev.kvshare.model.KvBlocks;
import dev.kvshare.model.Logits;
import dev.kvshare.model.ModelFingerprint;
import dev.kvshare.model.ServedModel;
import dev.kvshare.observability.BatchMetrics;
import dev.kvshare.observability.GenerationMetrics;
import dev.kvshare.observability.SequenceObservation;
import dev.kvshare.observability.SequenceObservations;
import dev.kvshare.observability.Spans;
import dev.kvshare.promptcache.FetchOrCompute;
import dev.kvshare.promptcache.LocalKvStore;
import dev.kvshare.promptcache.LocalTierEvents;
import dev.kvshare.promptcache.PrefixHasher;
import dev.kvshare.promptcache.PromptCache;
import dev.kvshare.promptcache.PromptCacheMetrics;
import dev.kvshare.testsupport.TestModels;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A finished sequence's store readies the memory a restore of it needs, so the same prompt again (or the next
 * turn) restores into memory already mapped instead of allocating, and page-faulting, its own.
 */
class PreparedRestoreTest {

    private static final int BLOCK = 4;

    @ParameterizedTest(name = "max batch size {0}")
    @ValueSource(ints = {1, 4})
    void theSamePromptAgainRestoresIntoMemoryTheFirstOnesStoreAllocated(int maxBatchSize) throws Exception {
        try (ServedModel model = TestModels.load(TestModels.GPT2)) {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            PromptCache cache = new PromptCache(
                    new PrefixHasher(ModelFingerprint.of(model.files().directory()).digest(), BLOCK),
                    new LocalKvStore(64 << 20), Optional.empty(), new FetchOrCompute(),
                    new PromptCacheMetrics(registry, model.name()), Runnable::run, Runnable::run, Spans.NONE,
                    Duration.ofSeconds(5), LocalTierEvents.NONE);
            KvBlocks kvBlocks = model.decoder().kvBlocks();
            SequenceObservations observations = new SequenceObservations(
                    new GenerationMetrics(registry, model.name()), Spans.NONE, model.name(), null);
            try (SequenceDecoders decoders = new SequenceDecoders(model,
                    new GenerationProperties(1, 1, 1, 16, maxBatchSize, 256), ClientLimits.defaults(),
                    new BatchMetrics(registry, model.name()), new PromptCachePrefixes(cache, kvBlocks))) {
                int[] prompt = new int[5 * BLOCK + 2];
                Arrays.setAll(prompt, i -> (i * 37 + 11) % 700);
                Run cold = generate(decoders, observations, prompt);
                long allocated = kvBlocks.restoreBytesAllocated();

                Run again = generate(decoders, observations, prompt);

                assertThat(cold.cachedTokens()).isZero();
                assertThat(again.cachedTokens()).as("all but the last prompt token restored").isEqualTo(prompt.length - 1);
                assertThat(again.tokens()).containsExactly(cold.tokens());
                assertThat(kvBlocks.restoreBytesAllocated()).as("direct memory allocated by the repeat's restore")
                        .isEqualTo(allocated);
            }
        }
    }

    private record Run(int cachedTokens, int[] tokens) {
    }

    /** Three greedy tokens after {@code prompt}, through the prompt cache, stored when done as a request's are. */
    private static Run generate(SequenceDecoders decoders, SequenceObservations observations, int[] prompt) {
        int[] tokens = new int[3];
        try (SequenceObservation observation = observations.warmUp(prompt.length);
             SequenceDecoders.PrefixedDecoder decoder = decoders.open(prompt, "salt", "client", observation)) {
            float[] logits = decoder.decoder().start(prompt);
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = Logits.argmax(logits);
                if (i + 1 < tokens.length) {
                    logits = decoder.decoder().next(tokens[i]);
                }
            }
            decoder.storeFinished(prompt, tokens);
            return new Run(decoder.cachedTokens(), tokens);
        }
    }
}

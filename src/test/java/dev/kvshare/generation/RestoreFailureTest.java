package dev.kvshare.generation;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import dev.kvshare.model.ModelFingerprint;
import dev.kvshare.model.ServedModel;
import dev.kvshare.observability.BatchMetrics;
import dev.kvshare.observability.GenerationMetrics;
import dev.kvshare.observability.SequenceContext;
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
import io.micrometer.observation.Observation;
import org.junit.jupiter.api.Test;

/**
 * A prefix restored from the prompt cache whose bookkeeping then fails is freed: the request computes its whole
 * prompt instead, and no native tensor is left behind.
 */
class RestoreFailureTest {

    private static final int BLOCK = 4;

    @Test
    void aRestoredPrefixIsFreedWhenTheRestoreFailsAfterward() throws Exception {
        try (ServedModel model = TestModels.load(TestModels.GPT2)) {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            AtomicInteger restores = new AtomicInteger();
            GenerationMetrics failingAfterRestore = new GenerationMetrics(registry, model.name()) {
                @Override
                public void onEvent(Observation.Event event, SequenceContext context) {
                    if (event.getName().equals("kvshare.restored") && context.restored().localTokens() > 0) {
                        restores.incrementAndGet();
                        throw new IllegalStateException("metrics are down");
                    }
                    super.onEvent(event, context);
                }
            };
            PromptCache cache = new PromptCache(
                    new PrefixHasher(ModelFingerprint.of(model.files().directory()).digest(), BLOCK),
                    new LocalKvStore(64 << 20), Optional.empty(), new FetchOrCompute(),
                    new PromptCacheMetrics(registry, model.name()), Runnable::run, Runnable::run, Spans.NONE,
                    Duration.ofSeconds(5), LocalTierEvents.NONE);
            try (SequenceDecoders decoders = new SequenceDecoders(model, new GenerationProperties(1, 1, 1, 16, 1, 256),
                    ClientLimits.defaults(), new BatchMetrics(registry, model.name()), new PromptCachePrefixes(cache, model.decoder().kvBlocks()))) {
                WarmupPrefill warmup = new WarmupPrefill(decoders,
                        new SequenceObservations(failingAfterRestore, Spans.NONE, model.name(), null));
                int[] prompt = new int[3 * BLOCK + 1];
                Arrays.setAll(prompt, i -> 10 + i);
                assertThat(warmup.prefill(prompt, "salt")).as("a cold prompt").isZero();
                long idle = model.decoder().liveTensors().count();

                assertThat(warmup.prefill(prompt, "salt")).as("computed again: the restore failed").isZero();

                assertThat(restores).as("the prefix was found and restored").hasValue(1);
                assertThat(model.decoder().liveTensors().count()).isEqualTo(idle);
            }
        }
    }
}

package dev.kvshare.generation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import dev.kvshare.model.DecoderModel;
import dev.kvshare.model.Logits;
import dev.kvshare.model.ServedModel;
import dev.kvshare.observability.BatchMetrics;
import dev.kvshare.testsupport.TestModels;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Sequences advanced together by the batch scheduler against each run alone: eight prompts of different
 * lengths that join one after another (each once the one before has two tokens) and leave after different
 * numbers of tokens, with a prefill budget smaller than most prompts.
 *
 * <p>The logits are compared within 1e-4, not bitwise: a batched pass runs its matrix products with more
 * rows and its attention over padded columns, and fp32 kernels pick different blockings (so different
 * summation orders) for different shapes. The greedy ids must be equal.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BatchedDecodingTest {

    private static final int SEQUENCES = 8;
    private static final double TOLERANCE = 1e-4;
    /** Smaller than most prompts here, so that prefills span several iterations. */
    private static final int PREFILL_BUDGET = 7;

    private final Map<String, ServedModel> models = new HashMap<>();

    @BeforeAll
    void load() {
        Stream.of(TestModels.GPT2, TestModels.LLAMA, TestModels.BUNDLED)
                .forEach(name -> models.put(name, TestModels.load(name)));
    }

    @AfterAll
    void close() throws Exception {
        for (ServedModel model : models.values()) {
            model.close();
        }
    }

    Stream<Arguments> cases() {
        return Stream.of(TestModels.GPT2, TestModels.LLAMA, TestModels.BUNDLED)
                .flatMap(name -> Stream.of(Arguments.of(name, SEQUENCES, false), Arguments.of(name, 3, false),
                        Arguments.of(name, SEQUENCES, true)));
    }

    /**
     * With {@code together}, every sequence starts at once instead, so that their prompts are prefilled
     * together: several rows in one prefill pass.
     */
    @ParameterizedTest(name = "{0}, max-batch-size {1}, starting together: {2}")
    @MethodSource("cases")
    void sequencesJoiningAndLeavingABatchGetTheirIdsAlone(String name, int maxBatchSize, boolean together)
            throws Exception {
        DecoderModel model = models.get(name).decoder();
        assertThat(model.batchesRowsOfDifferentLengths()).isTrue();
        List<Run> alone = eachAlone(model);
        long liveBefore = model.liveTensors().count();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        BatchScheduler scheduler = new BatchScheduler(model, maxBatchSize, PREFILL_BUDGET,
                ClientLimits.defaults().maxNeighbourSlowdown(), client -> 0, new BatchMetrics(registry, name));
        List<Run> batched = new ArrayList<>();
        ExecutorService threads = Executors.newFixedThreadPool(SEQUENCES);
        try {
            List<CountDownLatch> twoTokens = new ArrayList<>();
            for (int i = 0; i < SEQUENCES; i++) {
                twoTokens.add(new CountDownLatch(2));
            }
            List<Future<Run>> futures = new ArrayList<>();
            for (int i = 0; i < SEQUENCES; i++) {
                int index = i;
                futures.add(threads.submit(() -> {
                    if (index > 0 && !together) {
                        twoTokens.get(index - 1).await();
                    }
                    try (BatchedSequence sequence = scheduler.sequence(model.emptyCache(),
                            CachedDecoder.PrefillListener.NONE, "client-" + index)) {
                        return greedy(sequence, prompt(index, model), tokens(index), twoTokens.get(index));
                    }
                }));
            }
            for (Future<Run> future : futures) {
                batched.add(future.get());
            }
        } finally {
            threads.shutdown();
            scheduler.close(10_000);
        }
        double worst = 0;
        for (int i = 0; i < SEQUENCES; i++) {
            assertThat(batched.get(i).ids()).as("sequence %d", i).containsExactly(alone.get(i).ids());
            worst = Math.max(worst, maxAbsDifference(alone.get(i).logits(), batched.get(i).logits()));
        }
        assertThat(worst).as("max |Δlogit|").isLessThanOrEqualTo(TOLERANCE);
        assertThat(registry.get("kvshare.batch.size").summary().max()).as("rows of the largest pass")
                .isGreaterThan(1).isLessThanOrEqualTo(maxBatchSize);
        assertThat(registry.get("kvshare.batch.prefill.tokens").summary().max())
                .as("prompt tokens prefilled between two passes").isLessThanOrEqualTo(PREFILL_BUDGET);
        if (together) {
            assertThat(registry.get("kvshare.batch.prefill.rows").summary().max())
                    .as("prompts prefilled in one pass").isGreaterThan(1);
        }
        assertThat(model.liveTensors().count()).as("native tensors after the scheduler stopped").isEqualTo(liveBefore);
    }

    /**
     * Two sequences of one client hold a batch of two; a third client's sequence arrives, preempting the
     * hog's youngest (its row parked when the newcomer joins); then the hog sequence left in the batch pauses (its client stopped reading) until
     * the newcomer is done, so the parked one resumes and the paused one parks. Each gets its ids alone, the
     * newcomer its first token before either hog sequence is done, and the batch ran on without the paused one.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("modelNames")
    void preemptedAndPausedSequencesGetTheirIdsAlone(String name) throws Exception {
        DecoderModel model = models.get(name).decoder();
        int hogTokens = 60;
        int newcomerTokens = 6;
        List<Run> alone = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            try (CachedDecoder decoder = new CachedDecoder(model)) {
                alone.add(greedy(decoder, prompt(i, model), i < 2 ? hogTokens : newcomerTokens, null));
            }
        }
        long liveBefore = model.liveTensors().count();
        // Each prompt prefilled in one iteration: one comes in while a hog sequence holds the batch.
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        BatchScheduler scheduler = new BatchScheduler(model, 2, 64, ClientLimits.defaults().maxNeighbourSlowdown(),
                client -> 0, new BatchMetrics(registry, name));
        CountDownLatch hogsAdmitted = new CountDownLatch(1);
        CountDownLatch newcomerStarted = new CountDownLatch(1);
        CountDownLatch newcomerDone = new CountDownLatch(1);
        AtomicInteger hogsDone = new AtomicInteger();
        AtomicBoolean paused = new AtomicBoolean();
        ExecutorService threads = Executors.newFixedThreadPool(3);
        List<BatchedSequence> hogSequences = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            hogSequences.add(scheduler.sequence(model.emptyCache(), CachedDecoder.PrefillListener.NONE, "hog"));
        }
        BatchedSequence newcomerSequence = scheduler.sequence(model.emptyCache(), CachedDecoder.PrefillListener.NONE,
                "newcomer");
        try {
            List<Future<Run>> hogs = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                int index = i;
                hogs.add(threads.submit(() -> {
                    try (BatchedSequence sequence = hogSequences.get(index)) {
                        Run run = greedy(sequence, prompt(index, model), hogTokens, null, token -> {
                            // The first hog sequence with a second token holds the batch until both hog
                            // sequences are admitted and the newcomer waits, so that it finds every place held.
                            if (token == 1 && hogsAdmitted.getCount() == 1) {
                                awaitState(scheduler, hogSequences.get(1 - index), BatchedSequence.State.JOINING,
                                        BatchedSequence.State.RUNNING);
                                hogsAdmitted.countDown();
                                // Any state from WAITING on: the scheduler may already be prefilling it, and a
                                // poll every millisecond can miss a WAITING that short.
                                awaitState(scheduler, newcomerSequence, BatchedSequence.State.WAITING,
                                        BatchedSequence.State.PREFILLING, BatchedSequence.State.JOINING,
                                        BatchedSequence.State.RUNNING);
                            }
                            // The hog sequence still in the batch (the other is parked) pauses.
                            if (newcomerStarted.getCount() == 0 && paused.compareAndSet(false, true)) {
                                sequence.pause();
                                assertThat(newcomerDone.await(60, TimeUnit.SECONDS))
                                        .as("the newcomer finished while this sequence paused").isTrue();
                            }
                        });
                        hogsDone.incrementAndGet();
                        return run;
                    }
                }));
            }
            hogsAdmitted.await();
            Future<Run> newcomer = threads.submit(() -> {
                try (BatchedSequence sequence = newcomerSequence) {
                    Run run = greedy(sequence, prompt(2, model), newcomerTokens, null, token -> {
                        if (token == 0) {
                            assertThat(hogsDone).as("hog sequences done at the newcomer's first token").hasValue(0);
                        }
                        // Its second token is its first in the batch: the preempted row, which ran on while
                        // the newcomer prefilled, was parked in the repack that added it.
                        if (token == 1) {
                            newcomerStarted.countDown();
                        }
                    });
                    newcomerDone.countDown();
                    return run;
                }
            });
            assertThat(hogs.get(0).get().ids()).containsExactly(alone.get(0).ids());
            assertThat(hogs.get(1).get().ids()).containsExactly(alone.get(1).ids());
            assertThat(newcomer.get().ids()).containsExactly(alone.get(2).ids());
            assertThat(paused).as("a hog sequence paused").isTrue();
            assertThat(registry.get("kvshare.batch.parked").tag("reason", "preempted").counter().count())
                    .as("rows parked for the newcomer").isEqualTo(1);
            assertThat(registry.get("kvshare.batch.parked").tag("reason", "paused").counter().count())
                    .as("rows parked while their client did not read").isEqualTo(1);
        } finally {
            threads.shutdown();
            scheduler.close(10_000);
        }
        assertThat(model.liveTensors().count()).as("native tensors after the scheduler stopped").isEqualTo(liveBefore);
    }

    /**
     * Sequences whose plain samplers the scheduler runs beside sequences that sample on their own threads,
     * joining and leaving at different times, one of them falling behind (its thread pausing for a while after
     * its fourth token, as one whose client stopped reading): each gets its ids alone, and ends with the KV of
     * exactly the tokens it fed (its last token is never fed).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("modelNames")
    void sequencesSampledByTheSchedulerGetTheirIdsAlone(String name) throws Exception {
        DecoderModel model = models.get(name).decoder();
        List<Run> alone = eachAlone(model);
        long liveBefore = model.liveTensors().count();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        BatchScheduler scheduler = new BatchScheduler(model, 3, PREFILL_BUDGET,
                ClientLimits.defaults().maxNeighbourSlowdown(), client -> 0, new BatchMetrics(registry, name));
        ExecutorService threads = Executors.newFixedThreadPool(SEQUENCES);
        try {
            List<Future<int[]>> futures = new ArrayList<>();
            for (int i = 0; i < SEQUENCES; i++) {
                int index = i;
                futures.add(threads.submit(() -> {
                    try (BatchedSequence sequence = scheduler.sequence(model.emptyCache(),
                            CachedDecoder.PrefillListener.NONE, "client-" + index)) {
                        if (index % 2 == 1) {
                            return greedy(sequence, prompt(index, model), tokens(index), null).ids();
                        }
                        return sampledByTheScheduler(sequence, index, model, token -> {
                            if (index == 0 && token == 3) {
                                sequence.pause();
                                Thread.sleep(200);
                            }
                        });
                    }
                }));
            }
            for (int i = 0; i < SEQUENCES; i++) {
                assertThat(futures.get(i).get()).as("sequence %d", i).containsExactly(alone.get(i).ids());
            }
        } finally {
            threads.shutdown();
            scheduler.close(10_000);
        }
        assertThat(registry.get("kvshare.batch.size").summary().max()).as("rows of the largest pass")
                .isGreaterThan(1);
        assertThat(model.liveTensors().count()).as("native tensors after the scheduler stopped").isEqualTo(liveBefore);
    }

    /**
     * The batch does not wait for the thread of a sequence that the scheduler samples once it has its last
     * token: that thread stops (before reading its KV and leaving) while another sequence, sampling on its own
     * thread, decodes all its tokens; then it goes on, and reads the KV of every token it fed. Each gets its
     * ids alone.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("modelNames")
    void aFinishedSequencesRowLeavesWithoutWaitingForItsThread(String name) throws Exception {
        DecoderModel model = models.get(name).decoder();
        List<Run> alone = eachAlone(model);
        int finished = 6;
        int decoding = 3;
        long liveBefore = model.liveTensors().count();
        BatchScheduler scheduler = new BatchScheduler(model, 3, PREFILL_BUDGET,
                ClientLimits.defaults().maxNeighbourSlowdown(), client -> 0,
                new BatchMetrics(new SimpleMeterRegistry(), name));
        ExecutorService threads = Executors.newFixedThreadPool(2);
        CountDownLatch stalled = new CountDownLatch(1);
        CountDownLatch goOn = new CountDownLatch(1);
        try {
            Future<int[]> stalling = threads.submit(() -> {
                try (BatchedSequence sequence = scheduler.sequence(model.emptyCache(),
                        CachedDecoder.PrefillListener.NONE, "client-" + finished)) {
                    return sampledByTheScheduler(sequence, finished, model, i -> {
                        if (i == tokens(finished) - 1) {
                            stalled.countDown();
                            goOn.await();
                        }
                    });
                }
            });
            assertThat(stalled.await(30, TimeUnit.SECONDS)).as("the finished sequence's thread stalled").isTrue();
            Future<int[]> meanwhile = threads.submit(() -> {
                try (BatchedSequence sequence = scheduler.sequence(model.emptyCache(),
                        CachedDecoder.PrefillListener.NONE, "client-" + decoding)) {
                    return greedy(sequence, prompt(decoding, model), tokens(decoding), null).ids();
                }
            });
            assertThat(meanwhile.get(30, TimeUnit.SECONDS)).as("the sequence decoding beside the stalled thread")
                    .containsExactly(alone.get(decoding).ids());
            goOn.countDown();
            assertThat(stalling.get()).as("the finished sequence").containsExactly(alone.get(finished).ids());
        } finally {
            goOn.countDown();
            threads.shutdown();
            scheduler.close(10_000);
        }
        assertThat(model.liveTensors().count()).as("native tensors after the scheduler stopped").isEqualTo(liveBefore);
    }

    /**
     * Test sequence {@code index}, its tokens sampled greedily by the scheduler; {@code afterToken} runs after
     * each (after the last, before the sequence reads its KV). Its KV must hold exactly the tokens it fed: its
     * last token is never fed.
     */
    private static int[] sampledByTheScheduler(BatchedSequence sequence, int index, DecoderModel model,
                                               AfterToken afterToken) throws InterruptedException {
        TokenSource source = sequence.tokens(new Sampler(SamplingParams.GREEDY),
                new TokenEnding(Set.of(), true, tokens(index)));
        int[] ids = new int[tokens(index)];
        ids[0] = source.first(prompt(index, model));
        afterToken.accept(0);
        for (int t = 1; t < ids.length; t++) {
            ids[t] = source.next(ids[t - 1]);
            afterToken.accept(t);
        }
        int fed = prompt(index, model).length + ids.length - 1;
        sequence.readKv(kv -> assertThat(kv.length()).as("KV length of sequence %d", index).isEqualTo(fed));
        return ids;
    }

    /** Every sequence of the tests' set, decoded greedily alone: what each must also get in a batch. */
    private static List<Run> eachAlone(DecoderModel model) throws InterruptedException {
        List<Run> alone = new ArrayList<>();
        for (int i = 0; i < SEQUENCES; i++) {
            try (CachedDecoder decoder = new CachedDecoder(model)) {
                alone.add(greedy(decoder, prompt(i, model), tokens(i), null));
            }
        }
        return alone;
    }

    private static void awaitState(BatchScheduler scheduler, BatchedSequence sequence,
                                   BatchedSequence.State... states) throws InterruptedException {
        while (true) {
            synchronized (scheduler) {
                if (List.of(states).contains(sequence.state)) {
                    return;
                }
            }
            Thread.sleep(1);
        }
    }

    Stream<String> modelNames() {
        return Stream.of(TestModels.GPT2, TestModels.LLAMA, TestModels.BUNDLED);
    }

    private static Run greedy(SequenceDecoder decoder, int[] prompt, int tokens, CountDownLatch progress)
            throws InterruptedException {
        return greedy(decoder, prompt, tokens, progress, token -> { });
    }

    /** A step of a test sequence after its {@code i}-th token (from 0), before it hands the token in. */
    private interface AfterToken {
        void accept(int i) throws InterruptedException;
    }

    /** Greedy ids and every step's logits; counts {@code progress} down per token. */
    private record Run(int[] ids, List<float[]> logits) {
    }

    private static Run greedy(SequenceDecoder decoder, int[] prompt, int tokens, CountDownLatch progress,
                              AfterToken afterToken) throws InterruptedException {
        int[] ids = new int[tokens];
        List<float[]> logits = new ArrayList<>();
        float[] next = decoder.start(prompt);
        for (int i = 0; i < tokens; i++) {
            logits.add(next.clone());
            ids[i] = Logits.argmax(next);
            if (progress != null) {
                progress.countDown();
            }
            afterToken.accept(i);
            if (i + 1 < tokens) {
                next = decoder.next(ids[i]);
            }
        }
        return new Run(ids, logits);
    }

    private static double maxAbsDifference(List<float[]> expected, List<float[]> actual) {
        double worst = 0;
        for (int step = 0; step < expected.size(); step++) {
            for (int v = 0; v < expected.get(step).length; v++) {
                worst = Math.max(worst, Math.abs(expected.get(step)[v] - actual.get(step)[v]));
            }
        }
        return worst;
    }

    /** Lengths 3 to 38, not in order, so rows of every length sit side by side. */
    private static int[] prompt(int index, DecoderModel model) {
        int[] prompt = new int[new int[] {9, 3, 23, 14, 38, 5, 17, 30}[index]];
        int vocab = Math.min(1000, model.io().vocabSize());
        Arrays.setAll(prompt, i -> (i * 31 + index * 7 + 3) % vocab);
        return prompt;
    }

    /** Sequences leave after different numbers of tokens. */
    private static int tokens(int index) {
        return new int[] {20, 6, 14, 25, 9, 17, 4, 12}[index];
    }
}

package dev.kvshare.generation;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A sequence's output buffer with a sink that blocks, as a client that does not read makes it. */
class OutputBufferTest {

    private final ExecutorService writers = Executors.newCachedThreadPool();

    @AfterEach
    void stopWriters() {
        writers.shutdownNow();
    }

    private static TextChunk chunk(String text) {
        return new TextChunk(text, new int[] {text.length()});
    }

    @Test
    void theGeneratingSideNeverWaitsForABlockedClientAndTheClientGetsEverythingInOrder() throws Exception {
        CountDownLatch reading = new CountDownLatch(1);
        List<String> delivered = new CopyOnWriteArrayList<>();
        OutputBuffer buffer = new OutputBuffer(chunk -> {
            reading.await();
            delivered.add(chunk.text());
        }, writers, 100, e -> { });

        for (int i = 0; i < 50; i++) {
            assertThat(buffer.offer(chunk("t" + i))).isTrue(); // returns while the sink is blocked
        }
        long later = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        assertThat(buffer.lagNanos(later)).isGreaterThanOrEqualTo(TimeUnit.SECONDS.toNanos(1));

        CountDownLatch ended = new CountDownLatch(1);
        buffer.close(ended::countDown);
        reading.countDown();

        assertThat(ended.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(delivered).hasSize(50).startsWith("t0", "t1").endsWith("t49");
        assertThat(buffer.lagNanos(System.nanoTime())).isZero();
    }

    @Test
    void beyondItsCapacityAChunkIsRefused() {
        CountDownLatch never = new CountDownLatch(1);
        OutputBuffer buffer = new OutputBuffer(chunk -> never.await(), writers, 3, e -> { });

        // One is being handed over, three wait.
        for (int i = 0; i < 4; i++) {
            buffer.offer(chunk("t" + i));
        }
        boolean refused = false;
        for (int i = 0; i < 2 && !refused; i++) {
            refused = !buffer.offer(chunk("more"));
        }

        assertThat(refused).isTrue();
        never.countDown();
    }

    @Test
    void aProducerWaitingForRoomGoesOnOnceTheClientTakesAChunkOrTheBufferIsAbandoned() throws Exception {
        CountDownLatch read = new CountDownLatch(1);
        CountDownLatch handingOver = new CountDownLatch(1);
        OutputBuffer reading = new OutputBuffer(chunk -> {
            handingOver.countDown();
            read.await();
        }, writers, 1, e -> { });
        fill(reading, handingOver);
        CompletableFuture<Void> roomAfterARead = CompletableFuture.runAsync(() -> awaitRoom(reading));
        assertThat(roomAfterARead).isNotDone();
        read.countDown();
        roomAfterARead.get(30, TimeUnit.SECONDS);
        assertThat(reading.offer(chunk("next"))).isTrue();

        CountDownLatch never = new CountDownLatch(1);
        CountDownLatch stalledHandingOver = new CountDownLatch(1);
        OutputBuffer stalled = new OutputBuffer(chunk -> {
            stalledHandingOver.countDown();
            never.await();
        }, writers, 1, e -> { });
        fill(stalled, stalledHandingOver);
        CompletableFuture<Void> roomAfterAbandon = CompletableFuture.runAsync(() -> awaitRoom(stalled));
        assertThat(roomAfterAbandon).isNotDone();
        stalled.abandon(() -> { });
        roomAfterAbandon.get(30, TimeUnit.SECONDS);
        never.countDown();
    }

    /** One chunk in the sink's hands, then the buffer's capacity of one waiting. */
    private static void fill(OutputBuffer buffer, CountDownLatch handingOver) throws InterruptedException {
        assertThat(buffer.offer(chunk("t0"))).isTrue();
        assertThat(handingOver.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(buffer.offer(chunk("t1"))).isTrue();
        assertThat(buffer.offer(chunk("t2"))).isFalse();
    }

    private static void awaitRoom(OutputBuffer buffer) {
        try {
            buffer.awaitRoom();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void anAbandonedBufferDropsWhatWaitsAndEndsAfterTheHandOverUnderWay() throws Exception {
        CountDownLatch handingOver = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<String> delivered = new CopyOnWriteArrayList<>();
        OutputBuffer buffer = new OutputBuffer(chunk -> {
            handingOver.countDown();
            release.await();
            delivered.add(chunk.text());
        }, writers, 100, e -> { });
        buffer.offer(chunk("first"));
        buffer.offer(chunk("second"));
        assertThat(handingOver.await(30, TimeUnit.SECONDS)).isTrue();

        CountDownLatch ended = new CountDownLatch(1);
        buffer.abandon(ended::countDown);
        buffer.offer(chunk("after")); // the sequence has not stopped yet: accepted and dropped
        release.countDown();

        assertThat(ended.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(delivered).containsExactly("first");
    }

    @Test
    void aSinkThatFailsIsReportedOnceAndGetsNothingMore() throws Exception {
        AtomicReference<Exception> reported = new AtomicReference<>();
        CountDownLatch failed = new CountDownLatch(1);
        List<String> attempted = new CopyOnWriteArrayList<>();
        OutputBuffer buffer = new OutputBuffer(chunk -> {
            attempted.add(chunk.text());
            throw new IOException("Broken pipe");
        }, writers, 100, e -> {
            reported.set(e);
            failed.countDown();
        });

        buffer.offer(chunk("a"));
        buffer.offer(chunk("b"));

        assertThat(failed.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(reported.get()).hasMessage("Broken pipe");
        CountDownLatch ended = new CountDownLatch(1);
        buffer.close(ended::countDown);
        assertThat(ended.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(attempted).containsExactly("a");
    }
}

package dev.kvshare.soak;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.TestRedis;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The chaos soak: replicas in JVMs of their own sharing one Redis namespace, driven by seeded traffic with
 * client hang-ups at random points, identical prompts at once, stalled readers and a tenant hogging every slot
 * ({@link NoisyNeighbours}), connections trickling a body or headers past the request-read timeout
 * ({@link TricklingClient}, which the replicas must close), a local tier so small that blocks are evicted while
 * in use, and Redis restarted, stalled and its frames damaged. It holds that no replica dies or leaves an hs_err
 * file, every completed answer equals a cold reference, and after the traffic: no native tensor,
 * slot or thread is left behind and native memory did not grow.
 *
 * <p>{@code -Dsoak.duration=PT30M} (the {@code soak} profile: {@code ./mvnw -Psoak verify}, with
 * {@code -Xcheck:jni} in the replicas); {@code -Dsoak.seed} replays a run.
 *
 * <p>It runs for a fixed time beside the other integration tests (failsafe enables JUnit's parallel mode with
 * same-thread as the default; classes marked concurrent run beside the rest), so everything it starts, the cold
 * reference too, is a process of its own: nothing of it shares the test JVM's logs, metrics or native-tensor
 * count. It is the first class to start ({@code @Order(1)}, with the class orderer the pom sets), so that its
 * fixed time runs from the start of the integration tests instead of after the other concurrent classes.
 */
@Tag("soak")
@Order(1)
@Execution(ExecutionMode.CONCURRENT)
class ChaosSoakIT {

    private static final Duration DURATION = Duration.parse(System.getProperty("soak.duration", "PT1M"));
    private static final long SEED = Long.getLong("soak.seed", 20261124L);
    private static final int REPLICAS = 2;
    private static final int CLIENTS = 4;
    /** Short, so that trickling connections time out many times within the run. */
    private static final Duration REQUEST_READ_TIMEOUT = Duration.ofSeconds(5);
    /** Threads a replica may have beyond its idle count once the traffic has ended. */
    private static final int IDLE_WRITER_THREADS = 16;

    @TempDir
    Path workDir;

    private final AtomicInteger completed = new AtomicInteger();
    private final AtomicInteger hangUps = new AtomicInteger();
    private final AtomicInteger overloaded = new AtomicInteger();
    private final AtomicInteger stalls = new AtomicInteger();
    private final AtomicInteger hogBursts = new AtomicInteger();
    private final AtomicInteger tricklersClosed = new AtomicInteger();
    private final List<String> failures = new CopyOnWriteArrayList<>();
    private final Map<SoakRequest, String> references = new ConcurrentHashMap<>();

    @Test
    void replicasSurviveChaosAndAnswerExactly() throws Exception {
        List<String> jvmOptions = Boolean.getBoolean("soak.check-jni") ? List.of("-Xcheck:jni") : List.of();
        try (TestRedis redis = new TestRedis().start();
             ReplicaProcess reference = ReplicaProcess.launch(workDir, Map.of("kvshare.prompt-cache.enabled", false),
                     jvmOptions, true)) {
            List<ReplicaProcess> replicas = new ArrayList<>();
            try {
                for (int i = 0; i < REPLICAS; i++) {
                    Map<String, Object> settings = new LinkedHashMap<>(Map.of(
                            "kvshare.prompt-cache.redis.enabled", true, "spring.data.redis.host", redis.host(),
                            "spring.data.redis.port", redis.port(),
                            "kvshare.prompt-cache.redis.timeout", "300ms", "kvshare.prompt-cache.redis.open-duration",
                            "2s", "kvshare.prompt-cache.local.max-bytes", 400_000,
                            "kvshare.generation.max-batch-size", 4, "kvshare.limits.slow-client-timeout", "2s",
                            "kvshare.limits.max-queued-per-client", 2,
                            "kvshare.prompt-cache.tenants[" + NoisyNeighbours.HOG_KEY + "]", "hog"));
                    settings.put("kvshare.limits.request-read-timeout", REQUEST_READ_TIMEOUT.toSeconds() + "s");
                    replicas.add(ReplicaProcess.launch(workDir, settings, jvmOptions, true));
                }
                // all three JVMs start at once
                reference.awaitReady();
                replicas.forEach(ReplicaProcess::awaitReady);
                List<Baseline> idle = replicas.stream().map(Baseline::of).toList();
                run(replicas, reference.http(), new RedisChaos(redis, new Random(SEED)), idle);
            } finally {
                replicas.forEach(ReplicaProcess::close);
            }
        }
    }

    private void run(List<ReplicaProcess> replicas, Http reference, RedisChaos chaos, List<Baseline> idle)
            throws Exception {
        long start = System.nanoTime();
        long end = start + DURATION.toNanos();
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS + 5);
        List<Future<?>> running = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            Random random = new Random(SEED + c);
            running.add(clients.submit(() -> traffic(replicas, reference, random, end, clients)));
        }
        Random neighbours = new Random(SEED - 2);
        running.add(clients.submit(() -> stalledReaders(replicas, new Random(neighbours.nextLong()), end)));
        running.add(clients.submit(() -> hogs(replicas, new Random(neighbours.nextLong()), end)));
        running.add(clients.submit(() -> tricklers(replicas, new Random(neighbours.nextLong()), end)));
        Random chaosRandom = new Random(SEED - 1);
        List<Long> warmRss = null;
        while (System.nanoTime() < end) {
            long pause = 5_000 + chaosRandom.nextInt(10_000);
            Thread.sleep(Math.max(0, Math.min(pause, (end - System.nanoTime()) / 1_000_000))); // not past the end
            if (warmRss == null && System.nanoTime() - start > DURATION.toNanos() / 4) {
                warmRss = replicas.stream().map(ReplicaProcess::rssMegabytes).toList();
            }
            if (System.nanoTime() < end) {
                chaos.strike();
            }
        }
        for (Future<?> client : running) {
            client.get();
        }
        clients.shutdown();
        awaitSettled(replicas, idle);

        report(replicas, chaos, warmRss, idle);
        assertThat(failures).as("failed or differing answers").isEmpty();
        assertThat(hsErrFiles()).as("JVM crash reports").isEmpty();
        for (int i = 0; i < replicas.size(); i++) {
            ReplicaProcess replica = replicas.get(i);
            assertThat(replica.isAlive()).as("replica %d alive", i).isTrue();
            assertThat(replica.metric("kvshare_batch_size_count", "model=")).as("batched passes of replica %d", i)
                    .isPositive();
            assertThat(replica.metric("kvshare_requests_running", "model=")).as("running at the end").isZero();
            assertThat(replica.metric("kvshare_requests_waiting", "model=")).as("waiting at the end").isZero();
            assertThat(replica.metric("kvshare_model_live_tensors", "model="))
                    .as("live native tensors of replica %d", i).isEqualTo(idle.get(i).liveTensors());
            assertThat(replica.metric("jvm_threads_live_threads", ""))
                    .as("threads of replica %d", i).isLessThanOrEqualTo(idle.get(i).threads() + IDLE_WRITER_THREADS);
            if (warmRss != null) {
                assertThat(replica.rssMegabytes()).as("RSS (MB) of replica %d after warm-up", i)
                        .isLessThanOrEqualTo(warmRss.get(i) * 5 / 4 + 64);
            }
        }
        assertThat(completed.get()).as("completed requests").isPositive();
        assertThat(tricklersClosed.get()).as("trickling connections closed by the server").isPositive();
    }

    /** One client: requests until the deadline, sometimes three identical ones at once. */
    private void traffic(List<ReplicaProcess> replicas, Http reference, Random random, long end,
                         ExecutorService pool) {
        while (System.nanoTime() < end) {
            SoakRequest request = SoakRequest.next(random);
            ReplicaProcess replica = replicas.get(random.nextInt(replicas.size()));
            try {
                if (random.nextInt(10) == 0) {
                    List<Future<?>> same = new ArrayList<>();
                    SoakRequest complete = request.asReference();
                    for (ReplicaProcess target : replicas) {
                        same.add(pool.submit(() -> {
                            exchange(target, reference, complete, new Random(0));
                            return null;
                        }));
                    }
                    exchange(replica, reference, complete, random);
                    for (Future<?> f : same) {
                        f.get();
                    }
                } else {
                    exchange(replica, reference, request, random);
                }
            } catch (Exception | AssertionError e) {
                failures.add(request + " failed: " + e);
            }
        }
    }

    /** A client that stops reading now and then, past the replicas' slow-client timeout or not. */
    private void stalledReaders(List<ReplicaProcess> replicas, Random random, long end) {
        while (System.nanoTime() < end) {
            try {
                NoisyNeighbours.stallReading(replicas.get(random.nextInt(replicas.size())).port(), random,
                        500 + random.nextInt(5_000));
                stalls.incrementAndGet();
            } catch (Exception e) {
                failures.add("stalled reader failed: " + e);
            }
        }
    }

    /**
     * A tenant that now and then sends more long streams at once than a replica has slots and queue share (4 and
     * 2: 2 of 8 get 429). Not more at once: every connection may start a Tomcat thread that idles for a minute.
     */
    private void hogs(List<ReplicaProcess> replicas, Random random, long end) {
        while (System.nanoTime() < end) {
            try {
                failures.addAll(NoisyNeighbours.hog(replicas.get(random.nextInt(replicas.size())).port(), 8));
                hogBursts.incrementAndGet();
                Thread.sleep(random.nextInt(5_000));
            } catch (Exception e) {
                failures.add("hog failed: " + e);
            }
        }
    }

    /**
     * Now and then one or two slow bodies and one or two slowloris connections at once, dripping every 1 to 2.5 s:
     * each must be closed by the replica (a slow body answered 408 first) within its request-read timeout plus
     * the header sweep's second, not left open. Few at once: they hold no worker thread, but each holds a socket.
     */
    private void tricklers(List<ReplicaProcess> replicas, Random random, long end) {
        ExecutorService connections = Executors.newFixedThreadPool(4);
        Duration patience = REQUEST_READ_TIMEOUT.plusSeconds(30); // far past the deadline, so never the reason
        try {
            while (System.nanoTime() < end) {
                int port = replicas.get(random.nextInt(replicas.size())).port();
                Duration every = Duration.ofMillis(1_000 + random.nextInt(1_500));
                List<TricklingClient.Kind> kinds = new ArrayList<>();
                for (int i = 0, n = 1 + random.nextInt(2); i < n; i++) {
                    kinds.add(TricklingClient.Kind.SLOW_BODY);
                }
                for (int i = 0, n = 1 + random.nextInt(2); i < n; i++) {
                    kinds.add(TricklingClient.Kind.SLOWLORIS);
                }
                List<Future<TricklingClient.Ending>> endings = new ArrayList<>();
                for (TricklingClient.Kind kind : kinds) {
                    endings.add(connections.submit(() -> TricklingClient.trickle(port, kind, every, patience)));
                }
                for (int i = 0; i < kinds.size(); i++) {
                    TricklingClient.Ending ending = endings.get(i).get();
                    boolean closedRight = kinds.get(i) == TricklingClient.Kind.SLOW_BODY ? ending.timedOut408()
                            : ending.closedByServer();
                    if (closedRight) {
                        tricklersClosed.incrementAndGet();
                    } else {
                        failures.add(kinds.get(i) + " connection not closed as it should be within " + patience
                                + ": " + ending);
                    }
                }
                Thread.sleep(random.nextInt(3_000));
            }
        } catch (Exception e) {
            failures.add("trickling client failed: " + e);
        } finally {
            connections.shutdown();
        }
    }

    private void exchange(ReplicaProcess replica, Http reference, SoakRequest request, Random random)
            throws IOException, InterruptedException {
        if (request.hangUp() != null) {
            HangingUpClient.send(replica.port(), request, random);
            hangUps.incrementAndGet();
            return;
        }
        Http.Response response = replica.http().post("/v1/chat/completions", request.body());
        if (response.status() == 429) {
            overloaded.incrementAndGet();
            return;
        }
        String expected = references.computeIfAbsent(request.asReference(), r -> text(reference, r));
        String actual = request.stream() ? streamedText(response) : response.json().path("choices").path(0)
                .path("message").path("content").asString();
        if (response.status() != 200 || !expected.equals(actual)) {
            failures.add(request + ": HTTP " + response.status() + ", expected " + expected + ", got " + actual
                    + " / " + response.body());
        }
        completed.incrementAndGet();
    }

    private static String text(Http reference, SoakRequest request) {
        return reference.post("/v1/chat/completions", request.body()).json().path("choices").path(0)
                .path("message").path("content").asString();
    }

    private static String streamedText(Http.Response response) {
        StringBuilder text = new StringBuilder();
        for (JsonNode event : response.events()) {
            if (event.has("error")) {
                return "error: " + event;
            }
            text.append(event.path("choices").path(0).path("delta").path("content").asString(""));
        }
        return text.toString();
    }

    /**
     * Until nothing runs or waits, the live tensors are back to idle and the threads within what the checks below
     * allow: cancelled sequences stop at their next token, background stores finish, idle writer threads end.
     * At most 30 s; the checks then say what is left.
     */
    private static void awaitSettled(List<ReplicaProcess> replicas, List<Baseline> idle) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            boolean settled = true;
            for (int i = 0; i < replicas.size() && settled; i++) {
                ReplicaProcess replica = replicas.get(i);
                settled = !replica.isAlive()
                        || replica.metric("kvshare_requests_running", "model=") == 0
                        && replica.metric("kvshare_requests_waiting", "model=") == 0
                        && replica.metric("kvshare_model_live_tensors", "model=") == idle.get(i).liveTensors()
                        && replica.metric("jvm_threads_live_threads", "")
                                <= idle.get(i).threads() + IDLE_WRITER_THREADS;
            }
            if (settled) {
                return;
            }
            Thread.sleep(250);
        }
    }

    private List<Path> hsErrFiles() throws IOException {
        try (Stream<Path> files = Files.list(workDir)) {
            return files.filter(f -> f.getFileName().toString().startsWith("hs_err")).toList();
        }
    }

    private void report(List<ReplicaProcess> replicas, RedisChaos chaos, List<Long> warmRss, List<Baseline> idle) {
        System.out.printf("%nChaos soak, %s, seed %d: %d completed, %d hang-ups, %d 429s, %d stalled readers, %d hog "
                        + "bursts, %d trickling connections closed by the server, %d failures; Redis: %s%n", DURATION,
                SEED, completed.get(), hangUps.get(), overloaded.get(), stalls.get(), hogBursts.get(),
                tricklersClosed.get(), failures.size(), chaos.summary());
        for (int i = 0; i < replicas.size(); i++) {
            ReplicaProcess replica = replicas.get(i);
            System.out.printf("replica %d: alive %s, RSS %d MB idle, %s MB after warm-up, %d MB at the end; live "
                            + "tensors %.0f (idle %.0f); threads %.0f (idle %.0f); cancelled %.0f%n", i,
                    replica.isAlive(), idle.get(i).rssMegabytes(), warmRss == null ? "-" : warmRss.get(i),
                    replica.rssMegabytes(), replica.metric("kvshare_model_live_tensors", "model="),
                    idle.get(i).liveTensors(), replica.metric("jvm_threads_live_threads", ""), idle.get(i).threads(),
                    replica.metric("kvshare_requests_cancelled_total", "model="));
        }
        failures.stream().limit(10).forEach(f -> System.out.println("failure: " + f));
    }

    /** A replica's state before any traffic. */
    private record Baseline(long rssMegabytes, double liveTensors, double threads) {

        static Baseline of(ReplicaProcess replica) {
            return new Baseline(replica.rssMegabytes(), replica.metric("kvshare_model_live_tensors", "model="),
                    replica.metric("jvm_threads_live_threads", ""));
        }
    }
}

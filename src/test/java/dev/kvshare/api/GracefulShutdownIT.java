package dev.kvshare.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.kvshare.testsupport.Instance;
import dev.kvshare.testsupport.TestModels;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.Resources;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.ReadinessState;

/**
 * On shutdown readiness goes down first, a running stream still finishes, and only then the instance stops:
 * with one sequence per pass and with the batch scheduler alike.
 */
// Beside the serial integration tests, but never during one that captures the output (docs/architecture.md,
// Tests); its two cases one after another, as two services at once would only compete.
@Execution(ExecutionMode.CONCURRENT)
@ResourceLock(value = Resources.SYSTEM_OUT, mode = ResourceAccessMode.READ)
class GracefulShutdownIT {

    @Execution(ExecutionMode.SAME_THREAD)
    @ParameterizedTest(name = "max-batch-size {0}")
    @ValueSource(ints = {1, 4})
    void aRunningStreamFinishesAfterReadinessWentDown(int maxBatchSize) throws Exception {
        // A shutdown phase long enough for the 2,000-token stream on a busy machine (the default is 30 s): the
        // test is about the order of events, not about that timeout.
        Instance instance = Instance.start(Map.of("kvshare.model.path", TestModels.reference(TestModels.LLAMA),
                "kvshare.generation.max-batch-size", maxBatchSize,
                "spring.lifecycle.timeout-per-shutdown-phase", "2m"));
        ApplicationAvailability availability = instance.bean(ApplicationAvailability.class);
        CountDownLatch firstChunk = new CountDownLatch(1);
        HttpRequest request = HttpRequest.newBuilder(URI.create(instance.http().baseUrl() + "/v1/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("""
                        {"prompt": [1, 2, 3], "max_tokens": 2000, "ignore_eos": true, "stream": true}"""))
                .build();
        CompletableFuture<List<String>> stream = HttpClient.newHttpClient()
                .sendAsync(request, HttpResponse.BodyHandlers.ofLines())
                .thenApply(response -> response.body().peek(line -> firstChunk.countDown()).toList());
        assertThat(firstChunk.await(30, TimeUnit.SECONDS)).isTrue();

        CompletableFuture<Void> shutdown = CompletableFuture.runAsync(instance::close);
        ReadinessState readiness = ReadinessState.ACCEPTING_TRAFFIC;
        for (int i = 0; i < 2500 && readiness == ReadinessState.ACCEPTING_TRAFFIC && !stream.isDone(); i++) {
            Thread.sleep(2);
            readiness = availability.getReadinessState();
        }
        assertThat(readiness).as("readiness while the stream still runs").isEqualTo(ReadinessState.REFUSING_TRAFFIC);
        assertThat(stream).as("the stream outlives the start of shutdown").isNotDone();
        assertThat(shutdown).as("the instance waits for the stream").isNotDone();

        List<String> lines = stream.get(2, TimeUnit.MINUTES);
        assertThat(lines.stream().filter(line -> line.startsWith("data: {")).count()).isGreaterThan(1000);
        assertThat(lines).contains("data: [DONE]");
        shutdown.get(2, TimeUnit.MINUTES);
    }
}

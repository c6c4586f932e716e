package dev.kvshare.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.kvshare.generation.GenerationRequest;
import dev.kvshare.generation.GenerationResult;
import dev.kvshare.generation.GenerationService;
import dev.kvshare.generation.SamplingParams;
import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.ServiceOnGpt2;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/** Beyond max-concurrent running and max-queued waiting, requests get 429 with Retry-After at once. */
@ServiceOnGpt2 // one slot, one place in the queue, Retry-After 3
class OverloadHttpIT {

    @LocalServerPort
    int port;

    @Autowired
    GenerationService generation;

    @Test
    void fullQueueAnswers429AndAcceptsAgainOnceItDrains() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        GenerationRequest request = new GenerationRequest(new int[] {0, 0, 0, 52}, 4, SamplingParams.GREEDY,
                List.of(), true, "test");
        // One sequence holds the only slot (its sink blocks) and one waits: the service is full.
        CompletableFuture<GenerationResult> running = generation.submit(request, chunk -> release.await());
        CompletableFuture<GenerationResult> queued = generation.submit(request, chunk -> { });

        Http.Response refused = new Http(port).post("/v1/completions", "{\"prompt\": [1, 2, 3], \"max_tokens\": 2}");
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.headers().firstValue("Retry-After")).contains("3");
        assertThat(refused.json().path("error").path("code").asString()).isEqualTo("rate_limit_exceeded");

        release.countDown();
        running.get(30, TimeUnit.SECONDS);
        queued.get(30, TimeUnit.SECONDS);
        assertThat(new Http(port).post("/v1/completions", "{\"prompt\": [1, 2, 3], \"max_tokens\": 2}").status())
                .isEqualTo(200);
    }
}

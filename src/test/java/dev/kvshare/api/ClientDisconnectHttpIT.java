package dev.kvshare.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.kvshare.generation.GenerationRequest;
import dev.kvshare.generation.GenerationResult;
import dev.kvshare.generation.GenerationService;
import dev.kvshare.generation.SamplingParams;
import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.ServiceOnBundledModel;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.Resources;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.TestPropertySource;

/**
 * A client that hangs up frees its slot at once, streaming or not, and is counted, not logged as an error:
 * abandoned requests must not hold every slot while other clients get 429s (bundled model, one slot).
 */
@ExtendWith(OutputCaptureExtension.class)
// No concurrent test class logs into the capture meanwhile; first of the serial classes, while the soak holds
// the second worker, so that it never waits for that lock (docs/architecture.md, Tests).
@Order(2)
@ResourceLock(Resources.SYSTEM_OUT)
@ServiceOnBundledModel
// One client (this test, from 127.0.0.1) queues several requests: its share of the queue is all of it.
@TestPropertySource(properties = {"kvshare.generation.max-concurrent=1", "kvshare.generation.max-queued=4",
        "kvshare.limits.max-queued-per-client=4"})
class ClientDisconnectHttpIT {

    private static final String LONG = "{\"messages\": [{\"role\": \"user\", \"content\": \"Tell me everything.\"}], "
            + "\"max_tokens\": 900, \"ignore_eos\": true, \"temperature\": 0%s}";

    @LocalServerPort
    int port;

    @Autowired
    GenerationService generation;

    private double metric(String name, String label) {
        String scrape = new Http(port).get("/actuator/prometheus").body();
        return scrape.lines().filter(l -> l.startsWith(name + "{") && l.contains(label))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    /** Sends a request on a raw socket, reads {@code bytesToRead} of the answer, then drops the connection. */
    private void sendAndHangUp(String body, int bytesToRead, long waitMillis) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            OutputStream out = socket.getOutputStream();
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(bytes);
            out.flush();
            InputStream in = socket.getInputStream();
            for (int i = 0; i < bytesToRead; i++) {
                in.read();
            }
            Thread.sleep(waitMillis);
        }
    }

    private void awaitIdle() throws InterruptedException {
        for (int i = 0; i < 200 && metric("kvshare_requests_running", "model=") > 0; i++) {
            Thread.sleep(50);
        }
    }

    @Test
    void countersExistAtZeroFromStartUp() {
        String scrape = new Http(port).get("/actuator/prometheus").body();

        assertThat(scrape).contains("kvshare_requests_rejected_total{", "kvshare_requests_cancelled_total{");
    }

    @Test
    void aQueuedNonStreamingClientThatHangsUpNeverRuns(CapturedOutput output) throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        GenerationRequest holder = new GenerationRequest(new int[] {1, 2, 3}, 2, SamplingParams.GREEDY, List.of(),
                true, "test");
        // The only slot is held (its sink waits), so the next request queues.
        CompletableFuture<GenerationResult> running = generation.submit(holder, chunk -> release.await());
        double before = metric("kvshare_requests_cancelled_total", "stage=\"queued\"");

        sendAndHangUp(LONG.formatted(""), 0, 300);
        Thread.sleep(2_500); // the next heartbeat finds the connection closed and cancels the queued request
        release.countDown();
        running.get(30, TimeUnit.SECONDS);
        awaitIdle();

        assertThat(metric("kvshare_requests_cancelled_total", "stage=\"queued\"")).isEqualTo(before + 1);
        assertThat(output.getOut()).doesNotContain(" ERROR ");
    }

    @Test
    void theOpenAiSdkReadsAnswersThatHeartbeatsPrecede() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        GenerationRequest holder = new GenerationRequest(new int[] {1, 2, 3}, 2, SamplingParams.GREEDY, List.of(),
                true, "test");
        CompletableFuture<GenerationResult> running = generation.submit(holder, chunk -> release.await());
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + port + "/v1")
                .apiKey("not-checked").maxRetries(0).build();
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("kvshare-support-tiny")
                .addUserMessage("Where is my parcel?").maxCompletionTokens(5).temperature(0.0).build();

        // Both wait for the held slot for 2.5 s, so heartbeats go out before their answers.
        CompletableFuture<String> whole = CompletableFuture.supplyAsync(() -> client.chat().completions()
                .create(params).choices().get(0).message().content().orElseThrow());
        CompletableFuture<String> streamed = CompletableFuture.supplyAsync(() -> {
            StringBuilder text = new StringBuilder();
            try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
                stream.stream().forEach(chunk -> chunk.choices()
                        .forEach(choice -> choice.delta().content().ifPresent(text::append)));
            }
            return text.toString();
        });
        Thread.sleep(2_500);
        release.countDown();
        running.get(30, TimeUnit.SECONDS);

        assertThat(whole.get(60, TimeUnit.SECONDS)).isNotBlank().isEqualTo(streamed.get(60, TimeUnit.SECONDS));
    }

    @Test
    void aStreamingClientThatHangsUpAfterTheFirstChunkFreesItsSlot(CapturedOutput output) throws Exception {
        double before = metric("kvshare_requests_cancelled_total", "stage=\"generating\"");

        sendAndHangUp(LONG.formatted(", \"stream\": true"), 200, 0);
        awaitIdle();

        assertThat(metric("kvshare_requests_running", "model=")).isZero();
        assertThat(metric("kvshare_requests_cancelled_total", "stage=")).isGreaterThan(before);
        assertThat(output.getOut()).doesNotContain(" ERROR ", "Broken pipe");
    }

    @Test
    void aScraperThatReadsOnlyTheFirstLinesIsNotAnError(CapturedOutput output) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.getOutputStream().write("GET /actuator/prometheus HTTP/1.1\r\nHost: localhost\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            socket.getInputStream().read(new byte[100]);
        }
        Thread.sleep(500);

        assertThat(output.getOut()).doesNotContain(" ERROR ");
    }
}

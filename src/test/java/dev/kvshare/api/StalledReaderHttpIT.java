package dev.kvshare.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.kvshare.testsupport.Http;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.Resources;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

/**
 * A client that pipelines long streams on one connection with a tiny receive buffer and never reads must not
 * hold up anybody else: the batch waits only for the model. Normal streams run one after another beside it until
 * the stalled client is cancelled for being slow. A cancellation at time T means a chunk of the stalled client
 * had waited unwritten since before T minus the slow-client timeout, so the stalled client's writer was stuck
 * all through that window; normal streams that started inside it and ended before T (the counter still at 0
 * when they ended) prove that a stuck writer no longer freezes the batch — before, it froze every stream until
 * the stalled write failed.
 */
@ExtendWith(OutputCaptureExtension.class)
// No concurrent test class logs into the capture meanwhile; first of the serial classes, while the soak holds
// the second worker, so that it never waits for that lock (docs/architecture.md, Tests).
@Order(2)
@ResourceLock(Resources.SYSTEM_OUT)
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"kvshare.limits.slow-client-timeout=5s", "kvshare.limits.socket-send-buffer=8KB",
                "logging.level.dev.kvshare.generation=debug"})
class StalledReaderHttpIT {

    private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final String STALLED = "{\"prompt\": \"Tell me everything.\", \"max_tokens\": 3000, "
            + "\"ignore_eos\": true, \"stream\": true}";
    private static final String NORMAL = "{\"prompt\": \"Where is my parcel?\", \"max_tokens\": 60, "
            + "\"ignore_eos\": true, \"temperature\": 0, \"stream\": true, \"stream_options\": {\"include_usage\": true}}";

    @LocalServerPort
    int port;

    private double metric(String name, String label) {
        String scrape = new Http(port).get("/actuator/prometheus").body();
        return scrape.lines().filter(l -> l.startsWith(name + "{") && l.contains(label))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    private double slowClientCancels() {
        return metric("kvshare_requests_cancelled_total", "reason=\"slow_client\"");
    }

    /** A normal stream's start, end, whether the slow client was still uncancelled at its end, and its tokens. */
    private record Run(long start, long end, boolean beforeCancel, int completionTokens, boolean done) {
    }

    @Test
    void aStalledReaderNeitherDelaysOthersNorKeepsItsSlot(CapturedOutput output) throws Exception {
        Http http = new Http(port);
        List<Run> runs = new ArrayList<>();
        long firstCancelSeen;
        try (Socket stalled = new Socket()) {
            stalled.setReceiveBufferSize(1024);
            stalled.connect(new InetSocketAddress("127.0.0.1", port));
            OutputStream out = stalled.getOutputStream();
            byte[] body = STALLED.getBytes(StandardCharsets.UTF_8);
            String head = "POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length + "\r\n\r\n";
            for (int i = 0; i < 12; i++) {
                out.write(head.getBytes(StandardCharsets.US_ASCII));
                out.write(body);
            }
            out.flush();

            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
            while (slowClientCancels() == 0 && System.nanoTime() < deadline) {
                long start = System.nanoTime();
                Http.Response response = http.post("/v1/completions", NORMAL);
                long end = System.nanoTime();
                boolean beforeCancel = slowClientCancels() == 0;
                List<JsonNode> events = response.events();
                JsonNode usage = events.get(events.size() - 1).path("usage");
                runs.add(new Run(start, end, beforeCancel, usage.path("completion_tokens").asInt(),
                        response.body().endsWith("data: [DONE]\n\n")));
            }
            firstCancelSeen = System.nanoTime();
            assertThat(slowClientCancels()).as("the stalled client is cancelled for being slow").isEqualTo(1);
        }

        assertThat(runs).isNotEmpty().allSatisfy(run -> {
            assertThat(run.completionTokens()).isEqualTo(60);
            assertThat(run.done()).isTrue();
        });
        // Inside the window in which the stalled client's writer was stuck, normal streams started and finished.
        assertThat(runs).anySatisfy(run -> {
            assertThat(run.start()).isGreaterThan(firstCancelSeen - TIMEOUT_NANOS);
            assertThat(run.beforeCancel()).isTrue();
        });
        for (int i = 0; i < 200 && metric("kvshare_requests_running", "model=") > 0; i++) {
            Thread.sleep(100);
        }
        assertThat(metric("kvshare_requests_running", "model=")).isZero();
        assertThat(output.getOut()).contains("its client left text unread").doesNotContain(" ERROR ");
    }
}

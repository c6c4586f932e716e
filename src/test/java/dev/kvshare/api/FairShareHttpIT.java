package dev.kvshare.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.ServiceOnBundledModel;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.json.JsonMapper;

/**
 * One tenant's 40 long streams take every slot and its share of the queue; another tenant is still answered,
 * ahead of the queued rest of the first one's streams, and only the first tenant gets 429s. And a tenant
 * holding every slot with long streams gives one up to a newcomer at once (preemption), without changing its
 * own output.
 */
@ServiceOnBundledModel // its two tenants' API keys
class FairShareHttpIT {

    private static final String LONG = "{\"prompt\": \"Tell me everything.\", \"max_tokens\": 2000, "
            + "\"ignore_eos\": true, \"stream\": true}";

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @LocalServerPort
    int port;

    private double metric(String name) {
        String scrape = new Http(port).get("/actuator/prometheus").body();
        return scrape.lines().filter(l -> l.startsWith(name + "{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    /**
     * The shared service is idle: streams a test hung up on (this class's or another's on the same context) are
     * cancelled at their next token, and until then they hold the slots these tests count on.
     */
    @BeforeEach
    void noStreamStillRunning() throws InterruptedException {
        for (int i = 0; i < 1200 && metric("kvshare_requests_running") + metric("kvshare_requests_waiting") > 0; i++) {
            Thread.sleep(50);
        }
        assertThat(metric("kvshare_requests_running") + metric("kvshare_requests_waiting"))
                .as("requests still running or waiting before the test").isZero();
    }

    @Test
    void anotherTenantIsAnsweredBesideOneTenantsFortyStreams() throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        List<CompletableFuture<HttpResponse<InputStream>>> hog = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            hog.add(client.sendAsync(hogRequest(LONG), HttpResponse.BodyHandlers.ofInputStream()));
        }
        for (int i = 0; i < 200 && metric("kvshare_requests_waiting") < 8; i++) {
            Thread.sleep(50);
        }

        Http.Response other = new Http(port).post("/v1/completions",
                "{\"prompt\": \"Where is my parcel?\", \"max_tokens\": 20}", "Bearer key-other");
        double hogStillWaiting = metric("kvshare_requests_waiting");

        assertThat(other.status()).isEqualTo(200);
        assertThat(other.json().path("choices").path(0).path("text").asString()).isNotEmpty();
        // It took the first freed slot, not a place behind the first tenant's queued streams.
        assertThat(hogStillWaiting).isGreaterThan(0);
        List<Integer> hogStatuses = new ArrayList<>();
        for (CompletableFuture<HttpResponse<InputStream>> response : hog) {
            HttpResponse<InputStream> stream = response.get(5, TimeUnit.MINUTES);
            hogStatuses.add(stream.statusCode());
            stream.body().close(); // the status is what counts: hanging up cancels the rest of its 2,000 tokens
        }
        assertThat(hogStatuses).containsOnly(200, 429);
        assertThat(hogStatuses.stream().filter(status -> status == 200)).hasSize(4 + 8); // every slot, a quarter of the queue
    }

    @Test
    void aNewcomerIsAnsweredBeforeAnyStreamOfATenantHoldingEverySlotEndsAndThoseStreamsKeepTheirText()
            throws Exception {
        String greedy = "{\"prompt\": \"Tell me everything.\", \"max_tokens\": 2000, \"temperature\": 0, "
                + "\"ignore_eos\": true, \"stream\": true}";
        HttpClient client = HttpClient.newHttpClient();
        List<CompletableFuture<HttpResponse<String>>> hog = new ArrayList<>();
        for (int i = 0; i < 4; i++) { // max-concurrent: every slot
            hog.add(client.sendAsync(hogRequest(greedy), HttpResponse.BodyHandlers.ofString()));
        }
        for (int i = 0; i < 200 && metric("kvshare_requests_running") < 4; i++) {
            Thread.sleep(50);
        }

        Http.Response other = new Http(port).post("/v1/completions",
                "{\"prompt\": \"Where is my parcel?\", \"max_tokens\": 5}", "Bearer key-other");
        long hogStreamsDone = hog.stream().filter(CompletableFuture::isDone).count();

        assertThat(other.status()).isEqualTo(200);
        assertThat(hogStreamsDone).as("hog streams done when the newcomer was answered").isZero();
        List<String> hogTexts = new ArrayList<>();
        for (CompletableFuture<HttpResponse<String>> response : hog) {
            HttpResponse<String> done = response.get(5, TimeUnit.MINUTES);
            assertThat(done.statusCode()).isEqualTo(200);
            assertThat(done.body()).contains("[DONE]");
            hogTexts.add(streamedText(done.body()));
        }
        // One of them was parked for the newcomer and resumed: greedy, each is the request's text alone.
        String alone = streamedText(client.send(hogRequest(greedy), HttpResponse.BodyHandlers.ofString()).body());
        assertThat(alone).isNotEmpty();
        assertThat(hogTexts).containsOnly(alone);
    }

    /** A completion request of the hogging tenant. */
    private HttpRequest hogRequest(String body) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/completions"))
                .header("Content-Type", "application/json").header("Authorization", "Bearer key-hog")
                .timeout(Duration.ofMinutes(5)).POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    /** The text of a completions stream: its chunks' texts, in order. */
    private static String streamedText(String stream) {
        StringBuilder text = new StringBuilder();
        stream.lines().filter(line -> line.startsWith("data: {")).forEach(line -> text.append(
                JSON.readTree(line.substring("data: ".length())).path("choices").path(0).path("text").asString()));
        return text.toString();
    }
}

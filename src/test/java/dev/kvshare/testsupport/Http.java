package dev.kvshare.testsupport;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** A real HTTP client for tests against a running instance. */
public final class Http {

    public static final JsonMapper JSON = JsonMapper.builder().build();

    /** A response: status, headers we look at, and the body. */
    public record Response(int status, String body, java.net.http.HttpHeaders headers) {

        public JsonNode json() {
            return JSON.readTree(body);
        }

        /** The JSON payloads of {@code data:} events, [DONE] and comments (heartbeats) excluded. */
        public List<JsonNode> events() {
            List<JsonNode> events = new ArrayList<>();
            for (String block : body.split("\n\n")) {
                if (block.isBlank() || block.startsWith(":")) {
                    continue;
                }
                if (!block.startsWith("data: ")) {
                    throw new AssertionError("Not an SSE data event: " + block);
                }
                String data = block.substring("data: ".length());
                if (!data.equals("[DONE]")) {
                    events.add(JSON.readTree(data));
                }
            }
            return events;
        }
    }

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final String base;

    public Http(int port) {
        this.base = "http://127.0.0.1:" + port;
    }

    public String baseUrl() {
        return base;
    }

    public Response post(String path, String body) {
        return send(HttpRequest.newBuilder(URI.create(base + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    public Response post(String path, String body, String authorization) {
        return send(HttpRequest.newBuilder(URI.create(base + path))
                .header("Content-Type", "application/json")
                .header("Authorization", authorization)
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    public Response delete(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).DELETE());
    }

    public Response get(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
    }

    private Response send(HttpRequest.Builder request) {
        try {
            HttpResponse<String> response = client.send(request.timeout(Duration.ofMinutes(2)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return new Response(response.statusCode(), response.body(), response.headers());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}

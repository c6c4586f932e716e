package dev.kvshare.soak;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

/**
 * Clients that are bad neighbours: a stalled reader pipelines long streams on one connection with a tiny
 * receive buffer and does not read, and a hog sends a burst of long streams at once under its own API key.
 */
final class NoisyNeighbours {

    /** The API key the hog sends; the replicas map it to a tenant of its own. */
    static final String HOG_KEY = "key-hog";

    private static final String LONG_STREAM = "{\"messages\": [{\"role\": \"user\", \"content\": \"Tell me everything.\"}],"
            + " \"max_tokens\": %d, \"ignore_eos\": true, \"stream\": true}";

    private NoisyNeighbours() {
    }

    /** Pipelines a few long streams, reads nothing for {@code stallMillis}, then drops the connection. */
    static void stallReading(int port, Random random, long stallMillis) throws Exception {
        byte[] body = LONG_STREAM.formatted(1500).getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket()) {
            socket.setReceiveBufferSize(1024);
            socket.connect(new InetSocketAddress("127.0.0.1", port));
            OutputStream out = socket.getOutputStream();
            for (int i = 0, streams = 1 + random.nextInt(3); i < streams; i++) {
                out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                        + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(body);
            }
            out.flush();
            Thread.sleep(stallMillis);
        }
    }

    /**
     * Sends {@code streams} long streams at once under the hog's key and reads them all.
     *
     * @return a description of every answer that is neither a whole stream nor a 429
     */
    static List<String> hog(int port, int streams) throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
        for (int i = 0; i < streams; i++) {
            responses.add(client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                            + "/v1/chat/completions")).header("Content-Type", "application/json")
                    .header("Authorization", "Bearer " + HOG_KEY).timeout(Duration.ofMinutes(3))
                    .POST(HttpRequest.BodyPublishers.ofString(LONG_STREAM.formatted(200))).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        List<String> bad = new ArrayList<>();
        for (CompletableFuture<HttpResponse<String>> future : responses) {
            HttpResponse<String> response = future.get();
            boolean whole = response.statusCode() == 200 && response.body().endsWith("data: [DONE]\n\n")
                    && !response.body().contains("\"error\"");
            if (!whole && response.statusCode() != 429) {
                bad.add("hog stream: HTTP " + response.statusCode() + " " + response.body()
                        .substring(Math.max(0, response.body().length() - 300)));
            }
        }
        return bad;
    }
}

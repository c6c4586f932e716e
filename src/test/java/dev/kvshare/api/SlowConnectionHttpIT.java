package dev.kvshare.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import dev.kvshare.testsupport.Http;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.Resources;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Clients that trickle their request over raw sockets — a body a byte at a time, or headers a line at a time
 * (slowloris) — more of them than Tomcat has worker threads: normal requests are answered while they are open,
 * and each is closed once kvshare.limits.request-read-timeout has passed (a slow body with 408 first).
 */
// Beside the serial integration tests, but never during one that captures the output (docs/architecture.md, Tests).
@Execution(ExecutionMode.CONCURRENT)
@ResourceLock(value = Resources.SYSTEM_OUT, mode = ResourceAccessMode.READ)
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"kvshare.limits.request-read-timeout=8s", "server.tomcat.threads.max=6"})
class SlowConnectionHttpIT {

    private static final int EACH = 10;
    /** How long a reader waits for the server to answer or close: far past the deadline, so never the reason. */
    private static final Duration PATIENCE = Duration.ofSeconds(90);

    @LocalServerPort
    int port;

    private final ScheduledExecutorService writers = Executors.newScheduledThreadPool(2);
    private final ExecutorService readers = Executors.newCachedThreadPool();
    private final List<Socket> sockets = new ArrayList<>();

    @AfterEach
    void closeAll() throws IOException {
        writers.shutdownNow();
        readers.shutdownNow();
        for (Socket socket : sockets) {
            socket.close();
        }
    }

    /**
     * Opens a connection that sends {@code head} and then {@code drip} every 500 ms until the server closes it.
     *
     * @return what the server sent before closing the connection; fails if it never closed it
     */
    private CompletableFuture<String> trickle(String head, String drip) throws IOException {
        Socket socket = new Socket("127.0.0.1", port);
        sockets.add(socket);
        socket.setSoTimeout((int) PATIENCE.toMillis());
        OutputStream out = socket.getOutputStream();
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        writers.scheduleWithFixedDelay(() -> {
            try {
                out.write(drip.getBytes(StandardCharsets.US_ASCII));
                out.flush();
            } catch (IOException closed) {
                throw new IllegalStateException("closed by the server"); // ends this writer's schedule
            }
        }, 500, 500, TimeUnit.MILLISECONDS);
        return CompletableFuture.supplyAsync(() -> readUntilClosed(socket), readers);
    }

    private static String readUntilClosed(Socket socket) {
        StringBuilder received = new StringBuilder();
        byte[] buffer = new byte[4096];
        try (InputStream in = socket.getInputStream()) {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                received.append(new String(buffer, 0, n, StandardCharsets.ISO_8859_1));
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("The server kept a trickling connection open for " + PATIENCE, e);
        } catch (SocketException reset) {
            // closed by the server while the client was still writing
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return received.toString();
    }

    @Test
    void tricklingClientsHoldNoWorkerAndAreClosedAtTheDeadline() throws Exception {
        List<CompletableFuture<String>> slowBodies = new ArrayList<>();
        List<CompletableFuture<String>> slowHeaders = new ArrayList<>();
        for (int i = 0; i < EACH; i++) {
            slowBodies.add(trickle("POST /tokenize HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 1000\r\n\r\n{\"prompt\": \"", "a"));
            slowHeaders.add(trickle("POST /tokenize HTTP/1.1\r\nHost: localhost\r\n", "X-Slow: 1\r\n"));
        }
        Thread.sleep(1_500); // every trickling request has begun, with more of them than worker threads

        Http http = new Http(port);
        assertThat(http.post("/tokenize", "{\"prompt\": \"Where is my parcel?\"}").status()).isEqualTo(200);
        assertThat(http.get("/v1/models").status()).isEqualTo(200);
        assertThat(slowBodies).as("answered while the slow bodies were still open")
                .noneMatch(CompletableFuture::isDone);
        assertThat(http.post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], "
                + "\"max_tokens\": 2}").status()).isEqualTo(200);

        for (CompletableFuture<String> body : slowBodies) {
            assertThat(body.get()).startsWith("HTTP/1.1 408").contains("request_timeout", "Connection: close");
        }
        for (CompletableFuture<String> headers : slowHeaders) {
            assertThat(headers.get()).as("closed without an answer (not for its header count)").isEmpty();
        }
        assertThat(http.post("/tokenize", "{\"prompt\": \"Still here?\"}").status()).isEqualTo(200);
    }
}

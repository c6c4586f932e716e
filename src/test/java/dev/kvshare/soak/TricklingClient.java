package dev.kvshare.soak;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A client that trickles its request over a raw socket to 127.0.0.1: a slow body (headers, then a byte of the
 * body every few seconds) or slowloris (a header line every few seconds), until the server answers or closes the
 * connection. Used by the chaos soak and the noisy-neighbours benchmark.
 */
public final class TricklingClient {

    /** How a connection ended: what the server sent before closing it, or that it was still open. */
    public record Ending(boolean closedByServer, String received) {

        /** Answered 408 and closed: how a body still arriving after the request-read timeout must end. */
        public boolean timedOut408() {
            return closedByServer && received.startsWith("HTTP/1.1 408");
        }
    }

    public enum Kind {
        /** Complete headers announcing a 1,000-byte body, then the body a byte at a time. */
        SLOW_BODY("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: 1000\r\n\r\n{\"messages\": [{\"role\": \"user\", \"content\": \"", "a"),
        /** A request line, then one more header line at a time, never the blank line ending them. */
        SLOWLORIS("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n", "X-Slow: 1\r\n");

        private final String head;
        private final String drip;

        Kind(String head, String drip) {
            this.head = head;
            this.drip = drip;
        }
    }

    private TricklingClient() {
    }

    /**
     * Connects, sends the kind's head, then its drip every {@code every} until the server closes the connection,
     * for at most {@code patience}; then closes its own side.
     */
    public static Ending trickle(int port, Kind kind, Duration every, Duration patience) throws IOException {
        long giveUp = System.nanoTime() + patience.toNanos();
        StringBuilder received = new StringBuilder();
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout((int) every.toMillis()); // a read that times out is the moment to drip again
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            out.write(kind.head.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            byte[] buffer = new byte[4096];
            while (System.nanoTime() < giveUp) {
                try {
                    int n = in.read(buffer);
                    if (n < 0) {
                        return new Ending(true, received.toString());
                    }
                    received.append(new String(buffer, 0, n, StandardCharsets.ISO_8859_1));
                } catch (SocketTimeoutException quiet) {
                    if (received.isEmpty()) { // once answered, only wait for the close
                        out.write(kind.drip.getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                    }
                } catch (SocketException reset) {
                    return new Ending(true, received.toString()); // closed while this side was still writing
                }
            }
            return new Ending(false, received.toString());
        }
    }
}

package dev.kvshare.soak;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Random;

/** Sends a request on a raw socket and drops the connection at the request's hang-up point. */
final class HangingUpClient {

    private HangingUpClient() {
    }

    static void send(int port, SoakRequest request, Random random) throws IOException, InterruptedException {
        byte[] body = request.body().getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(60_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            switch (request.hangUp()) {
                case BEFORE_FIRST_BYTE -> { }
                case DURING_PREFILL -> Thread.sleep(random.nextInt(40));
                case MID_STREAM -> {
                    InputStream in = socket.getInputStream();
                    int wanted = 200 + random.nextInt(600); // past the headers, into the events
                    for (int read = 0; read < wanted && in.read() >= 0; read++) {
                        // reading
                    }
                }
            }
        }
    }
}

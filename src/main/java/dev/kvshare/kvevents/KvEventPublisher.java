package dev.kvshare.kvevents;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZFrame;
import org.zeromq.ZMQ;
import org.zeromq.ZMsg;

/**
 * vLLM's {@code ZmqEventPublisher} in Java. Callers hand events to a bounded queue and return at once; one thread
 * owns the sockets (ZeroMQ sockets are not thread-safe), packs whatever is queued into a batch and sends it on the
 * PUB socket as three frames: topic, 8-byte big-endian sequence number (from 0), msgpack payload. It keeps the last
 * {@code bufferSteps} batches for the ROUTER replay socket: a request {@code [identity, "", start seq]} is answered
 * with {@code [identity, "", seq, payload]} for each buffered batch from {@code start} on, then
 * {@code [identity, "", -1, ""]}.
 *
 * <p>When the queue is full an event is dropped and counted: a router then holds a stale view, which costs a
 * routing decision, never a request.
 */
public final class KvEventPublisher implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(KvEventPublisher.class);

    static final int QUEUE_CAPACITY = 100_000;
    /** Events packed into one batch at most, so one burst does not make one huge message. */
    static final int MAX_BATCH_EVENTS = 1_000;
    private static final int SEND_HIGH_WATER_MARK = 100_000;
    private static final long POLL_MILLIS = 20;
    private static final byte[] END_OF_REPLAY = sequenceBytes(-1);

    private record Sent(long sequence, byte[] payload) {
    }

    private final BlockingQueue<KvEvent> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
    private final ArrayDeque<Sent> replayBuffer = new ArrayDeque<>();
    private final int bufferSteps;
    private final byte[] topic;
    private final KvEventBatchEncoder encoder;
    private final ZContext context = new ZContext();
    private final ZMQ.Socket pub;
    private final ZMQ.Socket replay;
    private final Thread thread;
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong published = new AtomicLong();
    private volatile boolean running = true;
    private long nextSequence;

    /** Binds or connects the sockets now (a taken port fails start-up) and queues {@code AllBlocksCleared}. */
    public KvEventPublisher(KvEventsProperties properties) {
        this.bufferSteps = properties.bufferSteps();
        this.topic = properties.topic().getBytes(StandardCharsets.UTF_8);
        this.encoder = new KvEventBatchEncoder(properties.format());
        try {
            this.pub = context.createSocket(SocketType.PUB);
            pub.setLinger(0);
            pub.setSndHWM(SEND_HIGH_WATER_MARK);
            if (binds(properties.endpoint())) {
                pub.bind(properties.endpoint());
            } else {
                pub.connect(properties.endpoint());
            }
            String replayEndpoint = properties.replayEndpoint();
            this.replay = replayEndpoint == null || replayEndpoint.isBlank() ? null
                    : context.createSocket(SocketType.ROUTER);
            if (replay != null) {
                replay.setLinger(0);
                replay.bind(replayEndpoint);
            }
        } catch (RuntimeException e) {
            context.close();
            throw new IllegalStateException("Cannot open the KV event sockets (kvshare.kv-events.endpoint "
                    + properties.endpoint() + ", replay-endpoint " + properties.replayEndpoint() + ")", e);
        }
        publish(new KvEvent.AllBlocksCleared());
        this.thread = new Thread(this::run, "kv-events-publisher");
        thread.setDaemon(true);
        thread.start();
        log.info("Publishing KV events on {} (replay {}), topic '{}', {} format", properties.endpoint(),
                replay == null ? "off" : properties.replayEndpoint(), properties.topic(), properties.format());
    }

    /** vLLM's rule: bind a wildcard, ipc or inproc address; connect to anything else (a subscriber that binds). */
    static boolean binds(String endpoint) {
        return endpoint.contains("*") || endpoint.contains("::") || endpoint.startsWith("ipc://")
                || endpoint.startsWith("inproc://");
    }

    /** Queues an event without waiting; drops and counts it when the queue is full. */
    public void publish(KvEvent event) {
        if (!queue.offer(event)) {
            dropped.incrementAndGet();
        }
    }

    /** Events dropped because the queue was full. */
    public long dropped() {
        return dropped.get();
    }

    /** Batches sent. */
    public long published() {
        return published.get();
    }

    private void run() {
        List<KvEvent> batch = new ArrayList<>();
        while (running || !queue.isEmpty()) {
            try {
                // Send before serving replays, so a replay asked for after construction always holds the
                // AllBlocksCleared the constructor queued.
                KvEvent first = queue.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
                if (first != null) {
                    batch.add(first);
                    queue.drainTo(batch, MAX_BATCH_EVENTS - 1);
                    send(batch);
                }
                serveReplays();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.warn("Could not publish a KV event batch", e);
            } finally {
                batch.clear();
            }
        }
    }

    private void send(List<KvEvent> events) {
        byte[] payload = encoder.encode(System.currentTimeMillis() / 1000.0, events);
        long sequence = nextSequence++;
        pub.sendMore(topic);
        pub.sendMore(sequenceBytes(sequence));
        pub.send(payload);
        replayBuffer.addLast(new Sent(sequence, payload));
        if (replayBuffer.size() > bufferSteps) {
            replayBuffer.removeFirst();
        }
        published.incrementAndGet();
    }

    private void serveReplays() {
        if (replay == null) {
            return;
        }
        for (ZMsg request = ZMsg.recvMsg(replay, ZMQ.DONTWAIT); request != null;
             request = ZMsg.recvMsg(replay, ZMQ.DONTWAIT)) {
            try {
                serve(request);
            } finally {
                request.destroy();
            }
        }
    }

    private void serve(ZMsg request) {
        ZFrame[] frames = request.toArray(new ZFrame[0]);
        if (frames.length != 3 || frames[2].size() != Long.BYTES) {
            log.debug("Ignored a KV event replay request of {} frames: want identity, empty, 8-byte sequence",
                    frames.length);
            return;
        }
        byte[] client = frames[0].getData();
        long start = ByteBuffer.wrap(frames[2].getData()).getLong();
        for (Sent sent : replayBuffer) {
            if (sent.sequence() >= start) {
                reply(client, sequenceBytes(sent.sequence()), sent.payload());
            }
        }
        reply(client, END_OF_REPLAY, new byte[0]);
    }

    private void reply(byte[] client, byte[] sequence, byte[] payload) {
        replay.sendMore(client);
        replay.sendMore(new byte[0]);
        replay.sendMore(sequence);
        replay.send(payload);
    }

    private static byte[] sequenceBytes(long sequence) {
        return ByteBuffer.allocate(Long.BYTES).putLong(sequence).array();
    }

    /** Sends what is queued (for up to a second), then closes the sockets. */
    @Override
    public void close() {
        running = false;
        try {
            thread.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            log.warn("Closing the KV event publisher with {} events unsent", queue.size());
            thread.interrupt();
            try {
                thread.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        context.close();
    }
}

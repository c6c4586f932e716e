package dev.kvshare.kvevents;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZFrame;
import org.zeromq.ZMQ;
import org.zeromq.ZMsg;

/**
 * A consumer of vLLM's KV events as routers run one: a SUB socket that binds (the publisher connects to it, as
 * vLLM does to llm-d's central endpoint) and a DEALER that asks the publisher's ROUTER for replays.
 */
final class ZmqConsumer implements AutoCloseable {

    /** One message: the topic, the sequence number and the msgpack payload. */
    record Message(String topic, long sequence, byte[] payload) {
    }

    private final ZContext context = new ZContext();
    private final Map<String, ZMQ.Socket> dealers = new HashMap<>();
    private ZMQ.Socket sub;

    /** Binds a SUB socket at {@code endpoint} subscribed to {@code topic}. */
    ZmqConsumer subscribe(String endpoint, String topic) {
        sub = context.createSocket(SocketType.SUB);
        sub.setLinger(0);
        sub.subscribe(topic.getBytes(StandardCharsets.UTF_8));
        sub.bind(endpoint);
        return this;
    }

    /** The next published message, or null when none comes within {@code millis}. */
    Message receive(int millis) {
        sub.setReceiveTimeOut(millis);
        ZMsg message = ZMsg.recvMsg(sub);
        if (message == null) {
            return null;
        }
        ZFrame[] frames = message.toArray(new ZFrame[0]);
        assertThat(frames).as("frames: topic, sequence, payload").hasSize(3);
        assertThat(frames[1].size()).as("sequence bytes").isEqualTo(8);
        return new Message(new String(frames[0].getData(), StandardCharsets.UTF_8),
                ByteBuffer.wrap(frames[1].getData()).getLong(), frames[2].getData());
    }

    /**
     * Receives for {@code millis}. A ZeroMQ socket handles a new connection only inside a call on it: a bound SUB
     * sends its subscription to a publisher that connected meanwhile (which drops everything until then) here.
     */
    List<Message> listen(int millis) {
        List<Message> heard = new ArrayList<>();
        long end = System.nanoTime() + millis * 1_000_000L;
        for (long left = millis; left > 0; left = (end - System.nanoTime()) / 1_000_000) {
            Message message = receive((int) Math.max(1, left));
            if (message != null) {
                heard.add(message);
            }
        }
        return heard;
    }

    /** Stops listening: what is published from now on is missed. */
    void unsubscribe() {
        context.destroySocket(sub);
        sub = null;
    }

    /**
     * Asks the replay socket at {@code endpoint} for the batches from {@code start} on, as vLLM's replay clients do
     * (an empty delimiter, then the 8-byte big-endian start), and reads until the end marker (sequence -1, empty).
     * A request unanswered for 3 s is sent again from a new DEALER (so a late answer to the old one cannot mix
     * in), up to 5 times: with JeroMQ on both ends an occasional request was never seen by the ROUTER.
     */
    List<Message> replay(String endpoint, long start) {
        for (int attempt = 1; ; attempt++) {
            ZMQ.Socket dealer = dealers.computeIfAbsent(endpoint, address -> {
                ZMQ.Socket socket = context.createSocket(SocketType.DEALER);
                socket.setLinger(0);
                socket.setReceiveTimeOut(3_000);
                socket.connect(address);
                return socket;
            });
            dealer.sendMore(new byte[0]);
            dealer.send(ByteBuffer.allocate(8).putLong(start).array());
            List<Message> replayed = new ArrayList<>();
            ZMsg reply = ZMsg.recvMsg(dealer);
            if (reply == null) {
                context.destroySocket(dealers.remove(endpoint));
                assertThat(attempt).as("a replay reply within 3 s, in 5 tries").isLessThan(5);
                continue;
            }
            for (; ; reply = ZMsg.recvMsg(dealer)) {
                assertThat(reply).as("the rest of a replay within 3 s").isNotNull();
                ZFrame[] frames = reply.toArray(new ZFrame[0]);
                assertThat(frames).as("frames: empty, sequence, payload").hasSize(3);
                assertThat(frames[0].size()).isZero();
                long sequence = ByteBuffer.wrap(frames[1].getData()).getLong();
                if (sequence == -1) {
                    assertThat(frames[2].size()).as("the end marker's payload").isZero();
                    return replayed;
                }
                replayed.add(new Message(null, sequence, frames[2].getData()));
            }
        }
    }

    @Override
    public void close() {
        context.close();
    }
}

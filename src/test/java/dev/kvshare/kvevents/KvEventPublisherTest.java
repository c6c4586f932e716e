package dev.kvshare.kvevents;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import dev.kvshare.testsupport.TestRedis;
import org.junit.jupiter.api.Test;

/** The publisher on real sockets, in both payload forms, read by a consumer that decodes msgpack generically. */
class KvEventPublisherTest {

    @Test
    void publishesBatchesInBothFormsAndReplaysTheLastBufferSteps() {
        for (EventFormat format : EventFormat.values()) {
            String endpoint = "tcp://127.0.0.1:" + TestRedis.freePort();
            String replay = "tcp://127.0.0.1:" + TestRedis.freePort();
            try (ZmqConsumer consumer = new ZmqConsumer().subscribe(endpoint, "kv@");
                 KvEventPublisher publisher = new KvEventPublisher(new KvEventsProperties(true, endpoint, replay,
                         "kv@pod@model", 2, format, "CPU"))) {
                // Sent before any subscriber could hear it: the replay has it.
                List<ZmqConsumer.Message> start = consumer.replay(replay, 0);
                assertThat(start).extracting(ZmqConsumer.Message::sequence).containsExactly(0L);
                assertThat(read(format, start.get(0).payload()).events()).extracting(VllmEvents.Event::type)
                        .containsExactly("AllBlocksCleared");

                ZmqConsumer.Message heard = publishUntilHeard(publisher, consumer,
                        new KvEvent.BlockStored(new long[] {-5, 7}, null, new int[] {1, 2, 3, 4}, 2, "CPU"));
                assertThat(heard.topic()).isEqualTo("kv@pod@model");
                VllmEvents.Batch batch = read(format, heard.payload());
                assertThat(batch.events()).hasSize(1);
                VllmEvents.Event stored = batch.events().get(0);
                assertThat(stored.type()).isEqualTo("BlockStored");
                assertThat(stored.fields()).containsEntry("block_hashes", List.of(-5L, 7L))
                        .containsEntry("parent_block_hash", null).containsEntry("token_ids", List.of(1L, 2L, 3L, 4L))
                        .containsEntry("block_size", 2L).containsEntry("lora_id", null).containsEntry("medium", "CPU")
                        .containsEntry("lora_name", null);

                List<ZmqConsumer.Message> copies = consumer.listen(300); // of the BlockStored, sent while connecting
                long last = copies.isEmpty() ? heard.sequence() : copies.get(copies.size() - 1).sequence();
                publisher.publish(new KvEvent.BlockRemoved(new long[] {7}, "CPU"));
                ZmqConsumer.Message next = consumer.receive(10_000);
                assertThat(next.sequence()).isEqualTo(last + 1);
                assertThat(read(format, next.payload()).events()).containsExactly(new VllmEvents.Event("BlockRemoved",
                        Map.of("block_hashes", List.of(7L), "medium", "CPU")));

                // buffer-steps 2: the replay holds the last two batches, byte for byte as published.
                List<ZmqConsumer.Message> replayed = consumer.replay(replay, 0);
                assertThat(replayed).extracting(ZmqConsumer.Message::sequence).containsExactly(last, next.sequence());
                assertThat(read(format, replayed.get(0).payload()).events()).containsExactly(stored);
                assertThat(replayed.get(1).payload()).isEqualTo(next.payload());
                assertThat(consumer.replay(replay, next.sequence() + 1)).isEmpty();
            }
        }
    }

    @Test
    void bindsWildcardsAndConnectsToAddressesAsVllmDoes() {
        assertThat(KvEventPublisher.binds("tcp://*:5557")).isTrue();
        assertThat(KvEventPublisher.binds("tcp://[::]:5557")).isTrue();
        assertThat(KvEventPublisher.binds("ipc:///tmp/kv")).isTrue();
        assertThat(KvEventPublisher.binds("tcp://epp.default.svc:5557")).isFalse();
    }

    /** Publishes {@code event} until the subscriber hears it: a connecting PUB drops what it sends before. */
    private static ZmqConsumer.Message publishUntilHeard(KvEventPublisher publisher, ZmqConsumer consumer,
                                                        KvEvent event) {
        for (int i = 0; i < 100; i++) {
            publisher.publish(event);
            ZmqConsumer.Message message = consumer.receive(100);
            if (message != null) {
                return message;
            }
        }
        throw new AssertionError("the subscriber heard nothing in 10 s");
    }

    private static VllmEvents.Batch read(EventFormat format, byte[] payload) {
        Object decoded = MsgpackValues.decode(payload);
        return format == EventFormat.ARRAY ? VllmEvents.fromArrays(decoded) : VllmEvents.fromMaps(decoded);
    }
}

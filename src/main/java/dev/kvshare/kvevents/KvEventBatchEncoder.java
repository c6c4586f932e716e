package dev.kvshare.kvevents;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePacker;

/**
 * Encodes a batch of events as vLLM's msgspec does: {@code KVEventBatch(ts, events, data_parallel_rank)}, each
 * event a tagged struct. Fields with a default that is unset ({@code extra_keys}, {@code group_idx}, …) are left
 * out, as msgspec's {@code omit_defaults} does; {@code lora_id} and {@code lora_name}, which have no default, are
 * sent as nil. In {@link EventFormat#ARRAY}:
 * <pre>
 * [ts, [["BlockStored", [hash…], parent|nil, [token…], block_size, nil, medium, nil], …], 0]
 * ["BlockRemoved", [hash…], medium]     ["AllBlocksCleared"]
 * </pre>
 * In {@link EventFormat#MAP} the same fields keyed by their names, the tag under {@code "type"}.
 */
public final class KvEventBatchEncoder {

    /** One replica, no data parallelism: vLLM's publisher sets rank 0, so it is sent. */
    private static final int DATA_PARALLEL_RANK = 0;

    private final EventFormat format;

    public KvEventBatchEncoder(EventFormat format) {
        this.format = format;
    }

    /** @param ts seconds since the epoch, as Python's {@code time.time()} */
    public byte[] encode(double ts, List<KvEvent> events) {
        try (MessageBufferPacker packer = MessagePack.newDefaultBufferPacker()) {
            Struct batch = new Struct(packer, 3);
            batch.field("ts").packDouble(ts);
            batch.field("events").packArrayHeader(events.size());
            for (KvEvent event : events) {
                pack(packer, event);
            }
            batch.field("data_parallel_rank").packInt(DATA_PARALLEL_RANK);
            return packer.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException("msgpack into memory failed", e);
        }
    }

    private void pack(MessagePacker packer, KvEvent event) throws IOException {
        if (event instanceof KvEvent.BlockStored stored) {
            Struct struct = new Struct(packer, 8);
            struct.tag("BlockStored");
            packLongs(struct.field("block_hashes"), stored.blockHashes());
            if (stored.parentBlockHash() == null) {
                struct.field("parent_block_hash").packNil();
            } else {
                struct.field("parent_block_hash").packLong(stored.parentBlockHash());
            }
            struct.field("token_ids").packArrayHeader(stored.tokenIds().length);
            for (int token : stored.tokenIds()) {
                packer.packInt(token);
            }
            struct.field("block_size").packInt(stored.blockSize());
            struct.field("lora_id").packNil();
            struct.field("medium").packString(stored.medium());
            struct.field("lora_name").packNil();
        } else if (event instanceof KvEvent.BlockRemoved removed) {
            Struct struct = new Struct(packer, 3);
            struct.tag("BlockRemoved");
            packLongs(struct.field("block_hashes"), removed.blockHashes());
            struct.field("medium").packString(removed.medium());
        } else {
            new Struct(packer, 1).tag("AllBlocksCleared");
        }
    }

    private static void packLongs(MessagePacker packer, long[] values) throws IOException {
        packer.packArrayHeader(values.length);
        for (long value : values) {
            packer.packLong(value);
        }
    }

    /** A struct's header, then each field as a positional element or a named entry, per {@link #format}. */
    private final class Struct {

        private final MessagePacker packer;

        Struct(MessagePacker packer, int fields) throws IOException {
            this.packer = packer;
            if (format == EventFormat.ARRAY) {
                packer.packArrayHeader(fields);
            } else {
                packer.packMapHeader(fields);
            }
        }

        /** The tagged union's tag: an array's first element, a map's {@code "type"} entry. */
        void tag(String name) throws IOException {
            field("type").packString(name);
        }

        /** Writes the field's key in the map form; the caller packs the value next. */
        MessagePacker field(String name) throws IOException {
            if (format == EventFormat.MAP) {
                packer.packString(name);
            }
            return packer;
        }
    }
}

package dev.kvshare.kvevents;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.Value;

/**
 * Decodes msgpack generically — nil, integers as Long, floats as Double, strings, bytes, lists, maps — the way a
 * consumer in another language sees a payload, with nothing from the publisher's classes.
 */
final class MsgpackValues {

    private MsgpackValues() {
    }

    /** The payload's single value; fails when bytes are left over. */
    static Object decode(byte[] payload) {
        try (MessageUnpacker unpacker = MessagePack.newDefaultUnpacker(payload)) {
            Object value = plain(unpacker.unpackValue());
            if (unpacker.hasNext()) {
                throw new AssertionError("bytes after the payload's value");
            }
            return value;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Object plain(Value value) {
        switch (value.getValueType()) {
            case NIL:
                return null;
            case BOOLEAN:
                return value.asBooleanValue().getBoolean();
            case INTEGER:
                return value.asIntegerValue().toLong();
            case FLOAT:
                return value.asFloatValue().toDouble();
            case STRING:
                return value.asStringValue().asString();
            case BINARY:
                return value.asBinaryValue().asByteArray();
            case ARRAY:
                List<Object> list = new ArrayList<>();
                value.asArrayValue().forEach(element -> list.add(plain(element)));
                return list;
            case MAP:
                Map<Object, Object> map = new LinkedHashMap<>();
                value.asMapValue().entrySet().forEach(entry -> map.put(plain(entry.getKey()), plain(entry.getValue())));
                return map;
            default:
                throw new AssertionError("unexpected msgpack type " + value.getValueType());
        }
    }
}

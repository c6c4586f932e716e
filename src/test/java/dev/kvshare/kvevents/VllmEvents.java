package dev.kvshare.kvevents;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a generically decoded batch as vLLM's {@code vllm/distributed/kv_events.py} defines it, written out here
 * from vLLM's struct definitions (not from the publisher): {@code KVEventBatch(ts, events, data_parallel_rank)},
 * events tagged {@code BlockStored(block_hashes, parent_block_hash, token_ids, block_size, lora_id, medium,
 * lora_name)}, {@code BlockRemoved(block_hashes, medium)}, {@code AllBlocksCleared()}. In the array form each
 * struct is a list of its fields in that order, an event's tag first; in the map form the fields are keyed by
 * name and an event's tag is under {@code "type"}.
 */
final class VllmEvents {

    static final List<String> BATCH_FIELDS = List.of("ts", "events", "data_parallel_rank");
    static final Map<String, List<String>> EVENT_FIELDS = Map.of(
            "BlockStored", List.of("block_hashes", "parent_block_hash", "token_ids", "block_size", "lora_id",
                    "medium", "lora_name"),
            "BlockRemoved", List.of("block_hashes", "medium"),
            "AllBlocksCleared", List.of());

    /** An event: its tag and its fields by name. */
    record Event(String type, Map<String, Object> fields) {

        @SuppressWarnings("unchecked")
        List<Long> longs(String field) {
            return (List<Long>) fields.get(field);
        }
    }

    /** A batch: its fields by name, its events read. */
    record Batch(Map<String, Object> fields, List<Event> events) {
    }

    private VllmEvents() {
    }

    /** Reads an array-form batch; fails on anything that is not exactly vLLM's layout. */
    @SuppressWarnings("unchecked")
    static Batch fromArrays(Object decoded) {
        Map<String, Object> batch = named(BATCH_FIELDS, (List<Object>) decoded);
        List<Event> events = new ArrayList<>();
        for (Object element : (List<Object>) batch.get("events")) {
            List<Object> event = (List<Object>) element;
            String type = (String) event.get(0);
            events.add(new Event(type, named(fields(type), event.subList(1, event.size()))));
        }
        return new Batch(batch, events);
    }

    /** Reads a map-form batch; fails on anything that is not exactly vLLM's layout. */
    @SuppressWarnings("unchecked")
    static Batch fromMaps(Object decoded) {
        Map<String, Object> batch = (Map<String, Object>) decoded;
        if (!List.copyOf(batch.keySet()).equals(BATCH_FIELDS)) {
            throw new AssertionError("batch keys " + batch.keySet());
        }
        List<Event> events = new ArrayList<>();
        for (Object element : (List<Object>) batch.get("events")) {
            Map<String, Object> event = new LinkedHashMap<>((Map<String, Object>) element);
            String type = (String) event.remove("type");
            if (!List.copyOf(event.keySet()).equals(fields(type))) {
                throw new AssertionError(type + " keys " + event.keySet());
            }
            events.add(new Event(type, event));
        }
        return new Batch(batch, events);
    }

    private static List<String> fields(String type) {
        List<String> fields = EVENT_FIELDS.get(type);
        if (fields == null) {
            throw new AssertionError("unknown event tag " + type);
        }
        return fields;
    }

    private static Map<String, Object> named(List<String> names, List<Object> values) {
        if (values.size() != names.size()) {
            throw new AssertionError("want " + names + ", got " + values);
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            fields.put(names.get(i), values.get(i));
        }
        return fields;
    }
}

package dev.kvshare.kvevents;

/**
 * How a batch and its events are laid out in msgpack. vLLM's msgspec structs were {@code array_like} (each struct
 * an array of its fields, an event's first element its tag), and the consumers routers run (llm-d-kv-cache,
 * Dynamo) decode that; later vLLM encodes them as maps keyed by field name, an event's tag under {@code "type"}.
 */
public enum EventFormat {
    ARRAY,
    MAP
}

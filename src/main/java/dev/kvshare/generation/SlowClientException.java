package dev.kvshare.generation;

/**
 * A sequence stopped because its client did not read its output: a chunk waited longer than
 * {@code kvshare.limits.slow-client-timeout} to be handed over.
 */
public class SlowClientException extends GenerationCancelledException {
}

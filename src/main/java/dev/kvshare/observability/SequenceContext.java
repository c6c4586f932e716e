package dev.kvshare.observability;

import java.time.Duration;

import io.micrometer.observation.Observation;

/**
 * What is known of one sequence, filled in as it runs: the request, the prompt tokens restored and computed, the
 * time to its first token, the tokens generated, and how it ended. The meters, the spans and the convention's
 * attributes are all read from here. Written by the sequence's own thread, but cancellations come from others.
 */
public final class SequenceContext extends Observation.Context {

    /** The request as it arrived: its operation (chat or text completion) and sampling settings. */
    public record Request(String model, String operation, int promptTokens, int maxTokens, double temperature,
                          double topP, int topK) {
    }

    /** Prompt tokens whose KV came from the prompt cache's tiers. */
    public record Restored(int localTokens, int redisTokens) {

        public int tokens() {
            return localTokens + redisTokens;
        }
    }

    /** Why a request was stopped before its end; {@code reason} is null where nothing counted it. */
    public record Cancel(String reason, String stage) {
    }

    private final Request request;
    private final boolean traced;
    private final long receivedNanos = System.nanoTime();
    private volatile boolean rejected;
    private volatile Restored restored;
    private volatile int computedTokens = -1;
    private volatile Duration timeToFirstToken;
    private volatile long previousTokenNanos;
    private volatile long lastTokenNanos;
    private volatile int generatedTokens;
    private volatile int completionTokens = -1;
    private volatile String finishReason;
    private volatile Cancel cancel;

    /** @param traced false for work no request asked for (the warm-up): meters only, no span */
    SequenceContext(Request request, boolean traced) {
        this.request = request;
        this.traced = traced;
    }

    public Request request() {
        return request;
    }

    public boolean traced() {
        return traced;
    }

    /** When the request arrived ({@link System#nanoTime()}). */
    public long receivedNanos() {
        return receivedNanos;
    }

    /** True when the queue was full and the request refused at once. */
    public boolean rejected() {
        return rejected;
    }

    /** Null without a prompt cache (or when looking failed). */
    public Restored restored() {
        return restored;
    }

    /** Prompt tokens prefill computes; -1 before prefill starts. */
    public int computedTokens() {
        return computedTokens;
    }

    /** Null until the first token's logits are out. */
    public Duration timeToFirstToken() {
        return timeToFirstToken;
    }

    /** Time between the last two generated tokens; meaningful from the second on. */
    public long interTokenNanos() {
        return lastTokenNanos - previousTokenNanos;
    }

    /** Tokens generated so far, an end-of-sequence token not counted. */
    public int generatedTokens() {
        return generatedTokens;
    }

    /** The completion's tokens as the response counts them (its end token included); -1 until finished. */
    public int completionTokens() {
        return completionTokens;
    }

    /** OpenAI's name for how the sequence finished; null unless it did. */
    public String finishReason() {
        return finishReason;
    }

    /** Null unless the request was cancelled. */
    public Cancel cancel() {
        return cancel;
    }

    void rejected(boolean rejected) {
        this.rejected = rejected;
    }

    void restored(Restored restored) {
        this.restored = restored;
    }

    void prefilling(int computedTokens) {
        this.computedTokens = computedTokens;
    }

    Duration firstToken() {
        timeToFirstToken = Duration.ofNanos(System.nanoTime() - receivedNanos);
        return timeToFirstToken;
    }

    void token() {
        previousTokenNanos = lastTokenNanos;
        lastTokenNanos = System.nanoTime();
        generatedTokens++;
    }

    void finished(int completionTokens, String finishReason) {
        this.completionTokens = completionTokens;
        this.finishReason = finishReason;
    }

    void cancelled(Cancel cancel) {
        this.cancel = cancel;
    }
}

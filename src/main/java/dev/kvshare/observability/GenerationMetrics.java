package dev.kvshare.observability;

import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;

/**
 * The generation meters (see docs/configuration.md#metrics for their Prometheus names), recorded from each sequence's
 * observation as its handler: the generation code reports to the {@link SequenceObservation}, never to these
 * meters. Tags stay bounded: the model name, the prompt-token source, the finish reason and the cancellation's
 * reason and stage; never anything per request.
 */
public class GenerationMetrics implements ObservationHandler<SequenceContext> {

    private final MeterRegistry registry;
    private final String model;
    private final Timer timeToFirstToken;
    private final Timer interTokenLatency;
    private final Counter generatedTokens;
    private final Counter promptTokensComputed;
    private final Counter promptTokensLocal;
    private final Counter promptTokensRedis;

    public GenerationMetrics(MeterRegistry registry, String model) {
        this.registry = registry;
        this.model = model;
        this.timeToFirstToken = Timer.builder("kvshare.time.to.first.token")
                .description("Request received to first generated token (gen_ai.server.time_to_first_token)")
                .tag("model", model).publishPercentileHistogram().register(registry);
        this.interTokenLatency = Timer.builder("kvshare.inter.token.latency")
                .description("Time between consecutive generated tokens (gen_ai.server.time_per_output_token)")
                .tag("model", model).publishPercentileHistogram().register(registry);
        this.generatedTokens = Counter.builder("kvshare.generation.tokens")
                .description("Tokens generated").tag("model", model).register(registry);
        this.promptTokensComputed = promptTokens("computed");
        this.promptTokensLocal = promptTokens("local");
        this.promptTokensRedis = promptTokens("redis");
        // Counters a dashboard divides by or alerts on exist from start-up, at zero.
        rejectedCounter();
        for (String stage : CANCEL_STAGES) {
            cancelledCounter(CLIENT_DISCONNECTED, stage);
        }
        for (String stage : SLOW_CLIENT_STAGES) {
            cancelledCounter(SLOW_CLIENT, stage);
        }
    }

    /** Where a request was when its client went away. */
    private static final List<String> CANCEL_STAGES = List.of("queued", "generating", "responding");
    /** Where a request was when its client was found too slow (it only can be once text flows). */
    private static final List<String> SLOW_CLIENT_STAGES = List.of("generating", "responding");
    static final String CLIENT_DISCONNECTED = "client_disconnected";
    static final String SLOW_CLIENT = "slow_client";

    /** Prompt tokens by where their KV came from: {@code computed}, or a prompt-cache tier. */
    private Counter promptTokens(String source) {
        return Counter.builder("kvshare.prompt.tokens")
                .description("Prompt tokens by the source of their KV: computed by prefill or restored from a cache tier")
                .tags("model", model, "source", source).register(registry);
    }

    @Override
    public boolean supportsContext(Observation.Context context) {
        return context instanceof SequenceContext;
    }

    @Override
    public void onEvent(Observation.Event event, SequenceContext context) {
        if (event == SequenceEvent.RESTORED) {
            promptTokensLocal.increment(context.restored().localTokens());
            promptTokensRedis.increment(context.restored().redisTokens());
        } else if (event == SequenceEvent.FIRST_TOKEN) {
            promptTokensComputed.increment(context.computedTokens());
            timeToFirstToken.record(context.timeToFirstToken());
        } else if (event == SequenceEvent.TOKEN) {
            generatedTokens.increment();
            if (context.generatedTokens() > 1) {
                interTokenLatency.record(Duration.ofNanos(context.interTokenNanos()));
            }
        } else if (event == SequenceEvent.FINISHED) {
            Timer.builder("kvshare.request.duration")
                    .description("Generation time per request (gen_ai.server.request.duration)")
                    .tags("model", model, "finish_reason", context.finishReason()).register(registry)
                    .record(Duration.ofNanos(System.nanoTime() - context.receivedNanos()));
        } else if (event == SequenceEvent.CANCELLED) {
            cancelledCounter(context.cancel().reason(), context.cancel().stage()).increment();
        }
    }

    @Override
    public void onStop(SequenceContext context) {
        if (context.rejected()) {
            rejectedCounter().increment();
        }
    }

    private Counter rejectedCounter() {
        return Counter.builder("kvshare.requests.rejected")
                .description("Requests refused with 429: queue full, or the client's share of it taken")
                .tag("model", model).register(registry);
    }

    /**
     * A request whose client hung up after its sequence's observation ended; a sequence's own cancellations
     * come through its {@link SequenceObservation}.
     *
     * @param stage {@code responding}: the answer could not be sent
     */
    public void cancelled(String stage) {
        cancelledCounter(CLIENT_DISCONNECTED, stage).increment();
    }

    /**
     * A request cancelled because its client left text unread for longer than the slow-client timeout, after
     * its sequence's observation ended.
     *
     * @param stage {@code responding}: the sequence was done, its text was not delivered
     */
    public void slowClient(String stage) {
        cancelledCounter(SLOW_CLIENT, stage).increment();
    }

    private Counter cancelledCounter(String reason, String stage) {
        return Counter.builder("kvshare.requests.cancelled")
                .description("Requests stopped because the client disconnected or read too slowly, by where they were")
                .tags("model", model, "reason", reason, "stage", stage).register(registry);
    }

    /**
     * Sequences generating now and waiting for a slot: the autoscaling signal. Also under vLLM's names and label
     * ({@code model_name}), which inference gateways balance load on.
     */
    public void bindQueue(Supplier<Number> running, Supplier<Number> waiting) {
        Gauge.builder("kvshare.requests.running", running).description("Sequences being generated")
                .tag("model", model).register(registry);
        Gauge.builder("kvshare.requests.waiting", waiting).description("Sequences waiting for a generation slot")
                .tag("model", model).register(registry);
        Gauge.builder("vllm:num_requests_running", running).description("Number of requests in model execution")
                .tag("model_name", model).register(registry);
        Gauge.builder("vllm:num_requests_waiting", waiting).description("Number of requests waiting to be processed")
                .tag("model_name", model).register(registry);
    }
}

package dev.kvshare.api;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

import dev.kvshare.generation.GenerationCancelledException;
import dev.kvshare.generation.GenerationRequest;
import dev.kvshare.generation.GenerationResult;
import dev.kvshare.generation.GenerationService;
import dev.kvshare.generation.TextChunk;
import dev.kvshare.generation.TokenSink;
import dev.kvshare.observability.GenerationMetrics;
import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Component;
import org.springframework.web.servlet.mvc.method.annotation.ResponseBodyEmitter;
import tools.jackson.databind.json.JsonMapper;

/**
 * Answers a generation request, streamed as server-sent events the way OpenAI does ({@code data: {json}\n\n}
 * per chunk, {@code data: [DONE]\n\n} at the end, an error after the stream began as
 * {@code data: {"error": {...}}}) or as one JSON body once it is done. Either way a client that disconnects
 * is noticed and its sequence cancelled: it stops at its next token, or never starts if it is still queued.
 */
@Component
class EventStream {

    private static final Logger log = LoggerFactory.getLogger(EventStream.class);

    static final MediaType EVENT_STREAM = new MediaType("text", "event-stream", StandardCharsets.UTF_8);

    /** What an endpoint sends: its chunk shapes around the generated text. */
    interface Format {

        List<Object> opening();

        /** The event for newly generated text, or null to send none for it. */
        Object text(TextChunk chunk);

        List<Object> closing(GenerationResult result);
    }

    /** An SSE comment: clients skip it. */
    private static final String SSE_COMMENT = ": keep-alive\n\n";
    private static final String JSON_WHITESPACE = " ";
    private static final long HEARTBEAT_MILLIS = 1_000;

    private final GenerationService generation;
    private final GenerationMetrics metrics;
    private final JsonMapper json;
    private final ScheduledExecutorService heartbeats = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "response-heartbeats");
        thread.setDaemon(true);
        return thread;
    });

    EventStream(GenerationService generation, GenerationMetrics metrics, JsonMapper json) {
        this.generation = generation;
        this.metrics = metrics;
        this.json = json;
    }

    @PreDestroy
    void stopHeartbeats() {
        heartbeats.shutdownNow();
    }

    /** Queues the generation (a full queue fails here, before any event) and streams its chunks. */
    ResponseEntity<ResponseBodyEmitter> stream(GenerationRequest request, String client, Format format,
                                               RequestLog.Entry logged) {
        // No timeout: a long generation is not a stalled one, and a client that leaves stops it.
        ResponseBodyEmitter emitter = new ResponseBodyEmitter(0L);
        // Sent before the generation can produce text; held by the emitter until the response starts.
        for (Object opening : format.opening()) {
            trySend(emitter, opening);
        }
        AtomicReference<ScheduledFuture<?>> heartbeat = new AtomicReference<>();
        // Called on a writer thread: a client that does not read holds up its own stream only.
        CompletableFuture<GenerationResult> sequence = generation.submit(request, client, chunk -> {
            Object event = format.text(chunk);
            if (event == null) { // the format holds this text back (it may be a tool call): keep beating
                return;
            }
            // Text flows now, and each write of it finds a closed connection: heartbeats are done. (A client
            // that stops reading must not hold the heartbeat thread on a full socket buffer.)
            Optional.ofNullable(heartbeat.get()).ifPresent(beat -> beat.cancel(false));
            try {
                send(emitter, event);
            } catch (IOException | IllegalStateException clientGone) {
                throw new GenerationCancelledException();
            }
        });
        heartbeat.set(watch(emitter, sequence, SSE_COMMENT, EVENT_STREAM));
        sequence.whenComplete((result, failure) -> {
            log(logged, result, failure);
            finish(emitter, format, result, failure);
        });
        return ResponseEntity.ok().contentType(EVENT_STREAM).body(emitter);
    }

    /**
     * Queues the generation and answers {@code body(result)} as one JSON document when it is done. Until then
     * a space goes out every second (JSON allows leading whitespace): Tomcat notices a client that left only
     * when it writes, and an abandoned request must not keep its slot. A failure after admission is therefore
     * sent as an OpenAI error body, like a streamed one.
     */
    ResponseEntity<ResponseBodyEmitter> whole(GenerationRequest request, String client,
                                              Function<GenerationResult, Object> body, RequestLog.Entry logged) {
        ResponseBodyEmitter emitter = new ResponseBodyEmitter(0L);
        CompletableFuture<GenerationResult> sequence = generation.submit(request, client, TokenSink.NONE);
        watch(emitter, sequence, JSON_WHITESPACE, MediaType.APPLICATION_JSON);
        sequence.whenComplete((result, failure) -> {
            log(logged, result, failure);
            if (failure != null && ClientDisconnects.isDisconnect(failure)) {
                emitter.complete();
                return;
            }
            try {
                emitter.send(failure == null ? body.apply(result) : OpenAiErrors.map(failure).body(),
                        MediaType.APPLICATION_JSON);
                emitter.complete();
            } catch (IOException | IllegalStateException clientGone) {
                log.debug("The client left before its answer was sent: {}", clientGone.toString());
                metrics.cancelled("responding");
                emitter.completeWithError(clientGone);
            }
        });
        return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(emitter);
    }

    /**
     * Cancels {@code sequence} when the connection fails: reported by the container, or found by writing
     * {@code heartbeat} every second until the sequence ends or the caller cancels the returned heartbeat (a
     * queued or prefilling sequence writes nothing else, and a closed socket shows only on a write).
     */
    private ScheduledFuture<?> watch(ResponseBodyEmitter emitter, CompletableFuture<GenerationResult> sequence,
                                     String heartbeat, MediaType type) {
        emitter.onError(failure -> sequence.cancel(false));
        emitter.onTimeout(() -> sequence.cancel(false));
        ScheduledFuture<?> beat = heartbeats.scheduleWithFixedDelay(() -> {
            try {
                emitter.send(heartbeat, type); // a String: written as it is, whatever the type
            } catch (IOException | IllegalStateException clientGone) {
                sequence.cancel(false);
            }
        }, HEARTBEAT_MILLIS, HEARTBEAT_MILLIS, TimeUnit.MILLISECONDS);
        sequence.whenComplete((result, failure) -> beat.cancel(false));
        return beat;
    }

    /** The request's log line: how it finished, its error status, or that its client left. */
    private static void log(RequestLog.Entry logged, GenerationResult result, Throwable failure) {
        if (failure == null) {
            logged.finished(result);
        } else if (ClientDisconnects.isDisconnect(failure)) {
            logged.ended("cancelled", 0);
        } else {
            logged.ended("error", OpenAiErrors.map(failure).status().value());
        }
    }

    private void finish(ResponseBodyEmitter emitter, Format format, GenerationResult result, Throwable failure) {
        if (failure != null && ClientDisconnects.isDisconnect(failure)) {
            emitter.complete();
            return;
        }
        try {
            if (failure != null) {
                send(emitter, OpenAiErrors.map(failure).body());
            } else {
                for (Object closing : format.closing(result)) {
                    send(emitter, closing);
                }
            }
            emitter.send("data: [DONE]\n\n", EVENT_STREAM);
            emitter.complete();
        } catch (IOException | IllegalStateException clientGone) {
            log.debug("The client left before the end of its stream: {}", clientGone.toString());
            metrics.cancelled("responding");
            emitter.completeWithError(clientGone);
        }
    }

    private void send(ResponseBodyEmitter emitter, Object event) throws IOException {
        emitter.send("data: " + json.writeValueAsString(event) + "\n\n", EVENT_STREAM);
    }

    private void trySend(ResponseBodyEmitter emitter, Object event) {
        try {
            send(emitter, event);
        } catch (IOException e) {
            emitter.completeWithError(e);
        }
    }
}

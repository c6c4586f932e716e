package dev.kvshare.api;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import dev.kvshare.generation.GenerationRequest;
import dev.kvshare.generation.GenerationResult;
import dev.kvshare.generation.GenerationService;
import dev.kvshare.generation.TextChunk;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Component;
import org.springframework.web.servlet.mvc.method.annotation.ResponseBodyEmitter;
import tools.jackson.databind.json.JsonMapper;

/**
 * Streams a generation as server-sent events the way OpenAI does: {@code data: {json}\n\n} per chunk,
 * {@code data: [DONE]\n\n} at the end, and an error that happens after the stream began as
 * {@code data: {"error": {...}}}.
 */
@Component
class EventStream {

    static final MediaType EVENT_STREAM = new MediaType("text", "event-stream", StandardCharsets.UTF_8);

    /** What an endpoint sends: its chunk shapes around the generated text. */
    interface Format {

        List<Object> opening();

        Object text(TextChunk chunk);

        List<Object> closing(GenerationResult result);
    }

    private final GenerationService generation;
    private final JsonMapper json;

    EventStream(GenerationService generation, JsonMapper json) {
        this.generation = generation;
        this.json = json;
    }

    /** Queues the generation (a full queue fails here, before any event) and streams its chunks. */
    ResponseEntity<ResponseBodyEmitter> stream(GenerationRequest request, Format format) {
        // No timeout: a long generation is not a stalled one, and a client that leaves stops it.
        ResponseBodyEmitter emitter = new ResponseBodyEmitter(0L);
        // Sent before the generation can produce text; held by the emitter until the response starts.
        for (Object opening : format.opening()) {
            trySend(emitter, opening);
        }
        generation.submit(request, chunk -> send(emitter, format.text(chunk)))
                .whenComplete((result, failure) -> finish(emitter, format, result, failure));
        return ResponseEntity.ok().contentType(EVENT_STREAM).body(emitter);
    }

    /**
     * A whole JSON response body. The completion endpoints answer either a stream or this, and Spring MVC
     * picks the return value handler from the declared type, so both travel as an emitter.
     */
    static ResponseEntity<ResponseBodyEmitter> json(Object body) {
        ResponseBodyEmitter emitter = new ResponseBodyEmitter();
        try {
            emitter.send(body, MediaType.APPLICATION_JSON);
        } catch (IOException e) {
            throw new IllegalStateException("Buffered send cannot fail", e);
        }
        emitter.complete();
        return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(emitter);
    }

    private void finish(ResponseBodyEmitter emitter, Format format, GenerationResult result, Throwable failure) {
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

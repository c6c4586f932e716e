package dev.kvshare.api;

import java.util.List;

import dev.kvshare.generation.GenerationRequest;
import dev.kvshare.generation.GenerationResult;
import dev.kvshare.generation.TextChunk;
import dev.kvshare.model.ServedModel;
import dev.kvshare.promptcache.CacheNamespace;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.http.HttpHeaders;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.ResponseBodyEmitter;

/** {@code POST /v1/completions}: a plain prompt, as text or as token ids. */
@RestController
class CompletionController {

    private static final String OBJECT = "text_completion";

    private final ServedModel servedModel;
    private final RequestPrompts prompts;
    private final MaxTokens maxTokens;
    private final EventStream events;
    private final CacheNamespace namespace;
    private final RequestLimits limits;
    private final Clients clients;
    private final RequestLog requestLog;

    CompletionController(ServedModel servedModel, RequestPrompts prompts, MaxTokens maxTokens, EventStream events,
                         CacheNamespace namespace, RequestLimits limits, Clients clients, RequestLog requestLog) {
        this.servedModel = servedModel;
        this.prompts = prompts;
        this.maxTokens = maxTokens;
        this.events = events;
        this.namespace = namespace;
        this.limits = limits;
        this.clients = clients;
        this.requestLog = requestLog;
    }

    @PostMapping("/v1/completions")
    ResponseEntity<ResponseBodyEmitter> complete(
            @RequestHeader(value = HttpHeaders.AUTHORIZATION, required = false) String authorization,
            @RequestBody CompletionRequest request, HttpServletRequest http) {
        String model = servedModel.name();
        GenerationRequests.checkModel(request, model);
        List<String> stops = limits.stops(request.stop());
        int[] prompt = prompt(request.prompt());
        GenerationRequest generationRequest = GenerationRequests.of(request,
                servedModel.config().samplingDefaults(), prompt,
                maxTokens.after(prompt, request.maxTokens(), "max_tokens", "prompt"), stops,
                GenerationRequests.salt(request, namespace, authorization));
        Reply reply = Reply.of("cmpl", model, prompt, request);
        RequestLog.Entry logged = requestLog.start(reply.id(), namespace.tenantFor(authorization), model);
        if (Boolean.TRUE.equals(request.stream())) {
            return events.stream(generationRequest, clients.of(http), new ChunkFormat(reply), logged);
        }
        return events.whole(generationRequest, clients.of(http), result -> new CompletionResponse(reply.id(), OBJECT,
                reply.created(), model, List.of(new CompletionResponse.Choice(0, result.text(),
                        result.finishReason().label(), null, reply.ids(result.tokenIds()))), Usage.of(result),
                reply.promptIds()), logged);
    }

    /** A string, an array of token ids, or a one-element array of either (batches are not supported). */
    private int[] prompt(Object prompt) {
        if (prompt instanceof String text) {
            limits.checkPrompt(text);
            return prompts.text(text, true);
        }
        if (prompt instanceof List<?> list && !list.isEmpty()) {
            if (list.stream().allMatch(Number.class::isInstance)) {
                return prompts.tokenIds(tokenIds(list), "prompt");
            }
            if (list.size() == 1 && (list.get(0) instanceof String || list.get(0) instanceof List<?>)) {
                return prompt(list.get(0));
            }
            throw new InvalidRequestException("Batched prompts are not supported: send one prompt per request",
                    "prompt");
        }
        throw new InvalidRequestException("prompt must be a string or a non-empty array of token ids", "prompt");
    }

    /** Numbers that must each be a whole token id; a fraction or a value beyond int is named, not truncated. */
    private static List<Integer> tokenIds(List<?> numbers) {
        for (int i = 0; i < numbers.size(); i++) {
            if (!(numbers.get(i) instanceof Integer)) {
                throw new InvalidRequestException("Token ids must be integers in the model's vocabulary; element "
                        + i + " of prompt is " + numbers.get(i), "prompt");
            }
        }
        return numbers.stream().map(Integer.class::cast).toList();
    }

    /** The pieces of a streamed text completion. */
    private record ChunkFormat(Reply reply) implements EventStream.Format {

        @Override
        public List<Object> opening() {
            return reply.tokenIds()
                    ? List.of(piece(new CompletionResponse.Choice(0, "", null, null, null), reply.promptIds()))
                    : List.of();
        }

        @Override
        public Object text(TextChunk text) {
            return piece(new CompletionResponse.Choice(0, text.text(), null, null, reply.ids(text.tokenIds())), null);
        }

        @Override
        public List<Object> closing(GenerationResult result) {
            var last = piece(new CompletionResponse.Choice(0, "", result.finishReason().label(), null, null), null);
            if (!reply.includeUsage()) {
                return List.of(last);
            }
            return List.of(last, new CompletionResponse(reply.id(), OBJECT, reply.created(), reply.model(), List.of(),
                    Usage.of(result), null));
        }

        private CompletionResponse piece(CompletionResponse.Choice choice, int[] promptIds) {
            return new CompletionResponse(reply.id(), OBJECT, reply.created(), reply.model(), List.of(choice), null,
                    promptIds);
        }
    }
}

package dev.kvshare.api;

import java.util.List;
import java.util.Map;

import dev.kvshare.generation.GenerationRequest;
import dev.kvshare.generation.GenerationResult;
import dev.kvshare.generation.GenerationService;
import dev.kvshare.generation.InvalidRequestException;
import dev.kvshare.generation.TextChunk;
import dev.kvshare.model.ChatTurn;
import dev.kvshare.promptcache.CacheNamespace;
import org.springframework.http.HttpHeaders;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.ResponseBodyEmitter;

/** {@code POST /v1/chat/completions}. */
@RestController
class ChatCompletionController {

    private static final String CHUNK = "chat.completion.chunk";
    /** OpenAI's roles; chat templates know these and treat others unpredictably. */
    private static final List<String> ROLES = List.of("system", "developer", "user", "assistant", "tool");

    private final GenerationService generation;
    private final EventStream events;
    private final CacheNamespace namespace;
    private final RequestLimits limits;

    ChatCompletionController(GenerationService generation, EventStream events, CacheNamespace namespace,
                             RequestLimits limits) {
        this.generation = generation;
        this.events = events;
        this.namespace = namespace;
        this.limits = limits;
    }

    @PostMapping("/v1/chat/completions")
    ResponseEntity<ResponseBodyEmitter> complete(
            @RequestHeader(value = HttpHeaders.AUTHORIZATION, required = false) String authorization,
            @RequestBody ChatCompletionRequest request) {
        String model = generation.model().name();
        GenerationRequests.checkModel(request, model);
        List<ChatTurn> turns = turns(request.messages());
        limits.checkChat(turns);
        List<String> stops = limits.stops(request.stop());
        int[] prompt = generation.chatPrompt(turns);
        Integer requestedMax = request.maxCompletionTokens() != null ? request.maxCompletionTokens()
                : request.maxTokens();
        String maxParam = request.maxCompletionTokens() != null ? "max_completion_tokens" : "max_tokens";
        GenerationRequest generationRequest = GenerationRequests.of(request, prompt,
                generation.maxTokensFor(prompt, requestedMax, maxParam, "messages"), stops,
                namespace.saltFor(authorization, request.cacheSalt()));
        Reply reply = Reply.of("chatcmpl", model, prompt, request);
        if (Boolean.TRUE.equals(request.stream())) {
            return events.stream(generationRequest, new ChunkFormat(reply));
        }
        return events.whole(generationRequest, result -> {
            var choice = new ChatCompletionResponse.Choice(0,
                    new ChatCompletionResponse.Message("assistant", result.text()),
                    result.finishReason().openAiName(), null, reply.ids(result.tokenIds()));
            return new ChatCompletionResponse(reply.id(), "chat.completion", reply.created(), model, List.of(choice),
                    Usage.of(result), reply.promptIds());
        });
    }

    /** The request's messages as turns for the chat template; {@code /tokenize} reads them the same way. */
    static List<ChatTurn> turns(List<ChatCompletionRequest.Message> messages) {
        if (messages == null || messages.isEmpty()) {
            throw new InvalidRequestException("messages must be a non-empty array", "messages");
        }
        return messages.stream().map(ChatCompletionController::turn).toList();
    }

    private static ChatTurn turn(ChatCompletionRequest.Message message) {
        if (message == null || message.role() == null || message.role().isBlank()) {
            throw new InvalidRequestException("Every message needs a role", "messages");
        }
        if (!ROLES.contains(message.role())) {
            throw new InvalidRequestException("A message's role must be one of " + ROLES, "messages");
        }
        return new ChatTurn(message.role(), text(message.content()));
    }

    /** A message's content: a string, or the text parts of a content array joined. */
    private static String text(Object content) {
        if (content == null) {
            return "";
        }
        if (content instanceof String text) {
            return text;
        }
        if (content instanceof List<?> parts) {
            StringBuilder text = new StringBuilder();
            for (Object part : parts) {
                if (!(part instanceof Map<?, ?> map) || !"text".equals(map.get("type"))
                        || !(map.get("text") instanceof String partText)) {
                    throw new InvalidRequestException("Only text content parts are supported", "messages");
                }
                text.append(partText);
            }
            return text.toString();
        }
        throw new InvalidRequestException("Message content must be a string or an array of text parts", "messages");
    }

    /** The chunks of a streamed chat completion. */
    private record ChunkFormat(Reply reply) implements EventStream.Format {

        @Override
        public List<Object> opening() {
            var delta = new ChatCompletionChunk.Delta("assistant", "");
            return List.of(chunk(new ChatCompletionChunk.Choice(0, delta, null, null, null), reply.promptIds()));
        }

        @Override
        public Object text(TextChunk text) {
            var delta = new ChatCompletionChunk.Delta(null, text.text());
            return chunk(new ChatCompletionChunk.Choice(0, delta, null, null, reply.ids(text.tokenIds())), null);
        }

        @Override
        public List<Object> closing(GenerationResult result) {
            var last = chunk(new ChatCompletionChunk.Choice(0, new ChatCompletionChunk.Delta(null, null),
                    result.finishReason().openAiName(), null, null), null);
            if (!reply.includeUsage()) {
                return List.of(last);
            }
            return List.of(last, new ChatCompletionChunk(reply.id(), CHUNK, reply.created(), reply.model(), List.of(),
                    Usage.of(result), null));
        }

        private ChatCompletionChunk chunk(ChatCompletionChunk.Choice choice, int[] promptIds) {
            return new ChatCompletionChunk(reply.id(), CHUNK, reply.created(), reply.model(), List.of(choice), null,
                    promptIds);
        }
    }
}

package dev.kvshare.api;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

import dev.kvshare.generation.GenerationRequest;
import dev.kvshare.generation.GenerationResult;
import dev.kvshare.constrain.Grammar;
import dev.kvshare.constrain.TokenConstraint;
import dev.kvshare.generation.TextChunk;
import dev.kvshare.model.ChatTurn;
import dev.kvshare.model.ServedModel;
import dev.kvshare.toolcall.ToolCallMetrics;
import dev.kvshare.promptcache.CacheNamespace;
import jakarta.servlet.http.HttpServletRequest;
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

    private final ServedModel servedModel;
    private final RequestPrompts prompts;
    private final MaxTokens maxTokens;
    private final EventStream events;
    private final CacheNamespace namespace;
    private final RequestLimits limits;
    private final Clients clients;
    private final ToolRequests toolRequests;
    private final StructuredOutput structuredOutput;
    private final ToolCallMetrics toolCallMetrics;
    private final RequestLog requestLog;

    ChatCompletionController(ServedModel servedModel, RequestPrompts prompts, MaxTokens maxTokens, EventStream events,
                             CacheNamespace namespace, RequestLimits limits, ToolRequests toolRequests,
                             StructuredOutput structuredOutput, Clients clients, ToolCallMetrics toolCallMetrics,
                             RequestLog requestLog) {
        this.servedModel = servedModel;
        this.prompts = prompts;
        this.maxTokens = maxTokens;
        this.events = events;
        this.namespace = namespace;
        this.limits = limits;
        this.clients = clients;
        this.toolRequests = toolRequests;
        this.structuredOutput = structuredOutput;
        this.toolCallMetrics = toolCallMetrics;
        this.requestLog = requestLog;
    }

    @PostMapping("/v1/chat/completions")
    ResponseEntity<ResponseBodyEmitter> complete(
            @RequestHeader(value = HttpHeaders.AUTHORIZATION, required = false) String authorization,
            @RequestBody ChatCompletionRequest request, HttpServletRequest http) {
        String model = servedModel.name();
        GenerationRequests.checkModel(request, model);
        List<ChatTurn> turns = ChatTurns.of(request.messages());
        limits.checkChat(turns);
        List<String> stops = limits.stops(request.stop());
        ToolUse tools = toolRequests.of(request);
        int[] prompt = prompts.messages(turns, tools.templateTools(), tools.format());
        Integer requestedMax = request.maxCompletionTokens() != null ? request.maxCompletionTokens()
                : request.maxTokens();
        String maxParam = request.maxCompletionTokens() != null ? "max_completion_tokens" : "max_tokens";
        int maxTokens = this.maxTokens.after(prompt, requestedMax, maxParam, "messages");
        // Compiled last: a request refused for a cheaper reason (a prompt too long) never costs a compiled schema.
        Grammar grammar = structuredOutput.grammar(tools, request.responseFormat());
        Supplier<TokenConstraint> constraint = StructuredOutput.constraint(grammar, maxTokens, maxParam);
        GenerationRequest generationRequest = GenerationRequests.of(request,
                servedModel.config().samplingDefaults(), prompt, maxTokens, stops,
                GenerationRequests.salt(request, namespace, authorization), constraint);
        Reply reply = Reply.of("chatcmpl", model, prompt, request);
        RequestLog.Entry logged = requestLog.start(reply.id(), namespace.tenantFor(authorization), model);
        if (Boolean.TRUE.equals(request.stream())) {
            return events.stream(generationRequest, clients.of(http), new ChunkFormat(reply, tools, toolCallMetrics),
                    logged);
        }
        return events.whole(generationRequest, clients.of(http), result -> {
            AssistantReply answer = AssistantReply.of(result, tools);
            toolCallMetrics.rejected(answer.rejectedCalls());
            var choice = new ChatCompletionResponse.Choice(0,
                    new ChatCompletionResponse.Message("assistant", answer.content(), answer.toolCalls()),
                    answer.finishReason(), null, reply.ids(result.tokenIds()));
            return new ChatCompletionResponse(reply.id(), "chat.completion", reply.created(), model, List.of(choice),
                    Usage.of(result), reply.promptIds());
        }, logged);
    }

    /**
     * The chunks of a streamed chat completion. While tools are in use the text that is or may become a call is
     * held back ({@link ToolCallHoldback}; a forced call is all call) and sent at the end as the parser reads it:
     * the rest of the content and/or {@code tool_calls} deltas.
     */
    private static final class ChunkFormat implements EventStream.Format {

        private final Reply reply;
        private final ToolUse tools;
        private final ToolCallHoldback holdback;
        private final ToolCallMetrics toolCallMetrics;
        /** Ids of generated tokens whose text has not streamed yet: they go with the next text sent. */
        private int[] unsentIds = new int[0];
        private int sentIds;

        ChunkFormat(Reply reply, ToolUse tools, ToolCallMetrics toolCallMetrics) {
            this.reply = reply;
            this.tools = tools;
            this.toolCallMetrics = toolCallMetrics;
            this.holdback = tools.active() && !tools.forced() ? new ToolCallHoldback(tools.format()) : null;
        }

        @Override
        public List<Object> opening() {
            var delta = new ChatCompletionChunk.Delta("assistant", "");
            return List.of(chunk(new ChatCompletionChunk.Choice(0, delta, null, null, null), reply.promptIds()));
        }

        @Override
        public Object text(TextChunk text) {
            if (!tools.active()) {
                return content(text.text(), text.tokenIds());
            }
            unsentIds = concat(unsentIds, text.tokenIds());
            String streamed = holdback == null ? "" : holdback.offer(text.text());
            if (streamed.isEmpty()) {
                return null;
            }
            int[] ids = unsentIds;
            sentIds += ids.length;
            unsentIds = new int[0];
            return content(streamed, ids);
        }

        @Override
        public List<Object> closing(GenerationResult result) {
            List<Object> chunks = new ArrayList<>();
            String finishReason = result.finishReason().label();
            if (tools.active()) {
                AssistantReply answer = AssistantReply.of(result, tools);
                toolCallMetrics.rejected(answer.rejectedCalls());
                finishReason = answer.finishReason();
                String rest = holdback == null ? answer.content() : holdback.rest(answer.content());
                int[] ids = Arrays.copyOfRange(result.tokenIds(), Math.min(sentIds, result.tokenIds().length),
                        result.tokenIds().length);
                if (rest != null && !rest.isEmpty()) {
                    chunks.add(content(rest, ids));
                }
                if (answer.toolCalls() != null) {
                    chunks.add(chunk(new ChatCompletionChunk.Choice(0, new ChatCompletionChunk.Delta(null, null,
                            answer.indexedToolCalls()), null, null, null), null));
                }
            }
            chunks.add(chunk(new ChatCompletionChunk.Choice(0, new ChatCompletionChunk.Delta(null, null),
                    finishReason, null, null), null));
            if (reply.includeUsage()) {
                chunks.add(new ChatCompletionChunk(reply.id(), CHUNK, reply.created(), reply.model(), List.of(),
                        Usage.of(result), null));
            }
            return chunks;
        }

        private ChatCompletionChunk content(String text, int[] tokenIds) {
            var delta = new ChatCompletionChunk.Delta(null, text);
            return chunk(new ChatCompletionChunk.Choice(0, delta, null, null, reply.ids(tokenIds)), null);
        }

        private static int[] concat(int[] a, int[] b) {
            int[] both = Arrays.copyOf(a, a.length + b.length);
            System.arraycopy(b, 0, both, a.length, b.length);
            return both;
        }

        private ChatCompletionChunk chunk(ChatCompletionChunk.Choice choice, int[] promptIds) {
            return new ChatCompletionChunk(reply.id(), CHUNK, reply.created(), reply.model(), List.of(choice), null,
                    promptIds);
        }
    }
}

package dev.kvshare.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessage;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.ServiceOnBundledModel;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * The tool loop with the official OpenAI Java SDK, unchanged: a forced call of {@code lookupOrder}, the
 * client runs it and sends the assistant's call and the tool's result back, the model answers. Plain and
 * streamed (the SDK's accumulator assembles the streamed call).
 */
@ServiceOnBundledModel
class OpenAiSdkToolLoopIT {

    @LocalServerPort
    int port;

    private OpenAIClient client() {
        return OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + port + "/v1").apiKey("not-checked")
                .maxRetries(0).build();
    }

    private static ChatCompletionCreateParams.Builder conversation() {
        return ChatCompletionCreateParams.builder()
                .model("kvshare-support-tiny")
                .addSystemMessage("You are the support assistant of Example Shop.")
                .addUserMessage("Where is my order A-1042?")
                .addTool(ChatCompletionFunctionTool.builder().function(FunctionDefinition.builder()
                        .name("lookupOrder").description("Looks an order up by its id")
                        .parameters(FunctionParameters.builder()
                                .putAdditionalProperty("type", JsonValue.from("object"))
                                .putAdditionalProperty("properties", JsonValue.from(Map.of("orderId",
                                        Map.of("type", "string"))))
                                .putAdditionalProperty("required", JsonValue.from(java.util.List.of("orderId")))
                                .putAdditionalProperty("additionalProperties", JsonValue.from(false))
                                .build())
                        .strict(true).build()).build())
                .temperature(0.0)
                .maxCompletionTokens(120);
    }

    /** What the client's tool does. */
    private static String lookupOrder(String arguments) {
        String orderId = Http.JSON.readTree(arguments).path("orderId").asString();
        return "{\"orderId\": " + Http.JSON.writeValueAsString(orderId) + ", \"status\": \"shipped\"}";
    }

    private String answerAfter(ChatCompletionMessage assistant) {
        ChatCompletionMessageFunctionToolCall call = assistant.toolCalls().orElseThrow().get(0).asFunction();
        ChatCompletion answer = client().chat().completions().create(conversation()
                .addMessage(assistant)
                .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id())
                        .content(lookupOrder(call.function().arguments())).build())
                .toolChoice(ChatCompletionToolChoiceOption.Auto.NONE)
                .build());
        assertThat(answer.choices().get(0).message().toolCalls().orElse(java.util.List.of())).isEmpty();
        return answer.choices().get(0).message().content().orElseThrow();
    }

    @Test
    void aForcedCallIsRunAndAnswered() {
        ChatCompletion call = client().chat().completions().create(conversation()
                .toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build());

        ChatCompletion.Choice choice = call.choices().get(0);
        assertThat(choice.finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
        assertThat(choice.message().toolCalls().orElseThrow().get(0).asFunction().function().name())
                .isEqualTo("lookupOrder");
        assertThat(answerAfter(choice.message())).isNotBlank();
    }

    @Test
    void aStreamedCallIsAccumulatedRunAndAnswered() {
        ChatCompletionAccumulator accumulator = ChatCompletionAccumulator.create();
        try (StreamResponse<ChatCompletionChunk> stream = client().chat().completions().createStreaming(
                conversation().toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build())) {
            stream.stream().forEach(accumulator::accumulate);
        }
        ChatCompletion.Choice choice = accumulator.chatCompletion().choices().get(0);

        assertThat(choice.finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
        assertThat(Http.JSON.readTree(choice.message().toolCalls().orElseThrow().get(0).asFunction().function()
                .arguments()).has("orderId")).isTrue();
        assertThat(answerAfter(choice.message())).isNotBlank();
    }
}

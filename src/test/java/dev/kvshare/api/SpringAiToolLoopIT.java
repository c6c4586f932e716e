package dev.kvshare.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.kvshare.testsupport.ServiceOnBundledModel;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.client.ChatClientRequest;
import org.springframework.ai.chat.client.ChatClientResponse;
import org.springframework.ai.chat.client.advisor.ToolCallingAdvisor;
import org.springframework.ai.chat.client.advisor.api.CallAdvisor;
import org.springframework.ai.chat.client.advisor.api.CallAdvisorChain;
import org.springframework.ai.chat.client.advisor.api.StreamAdvisor;
import org.springframework.ai.chat.client.advisor.api.StreamAdvisorChain;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.ToolResponseMessage;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.ai.openai.OpenAiChatOptions;
import org.springframework.ai.tool.annotation.Tool;
import org.springframework.ai.tool.annotation.ToolParam;
import org.springframework.boot.test.web.server.LocalServerPort;
import reactor.core.publisher.Flux;

/**
 * The tool loop end to end with Spring AI 2.0: a ChatClient offers a {@code @Tool} method, the service's reply
 * calls it, Spring AI's tool-calling advisor runs it and sends the result back, the model answers — plain and
 * streamed. The bundled model calls by itself only the tools it was trained on ({@code lookup_order}, …), not
 * this one, so {@link ForceTheFirstCall} asks for a call ({@code tool_choice: required}) until a tool result is
 * in the conversation, then for none: the forced call is generated under the tool's schema, so it always parses
 * and validates. (docs/examples/spring-ai-support-bot shows the model calling its trained tool unforced.)
 */
@ServiceOnBundledModel
class SpringAiToolLoopIT {

    private static final String SYSTEM = "You are the support assistant of Example Shop. Look orders up before "
            + "you answer questions about them.";

    @LocalServerPort
    int port;

    /** The support bot's tool. */
    static class OrderTools {

        final List<String> lookedUp = new CopyOnWriteArrayList<>();

        @Tool(description = "Looks an order up by its id and tells its status")
        String lookupOrder(@ToolParam(description = "The order id, e.g. A-1042") String orderId) {
            lookedUp.add(orderId);
            return "{\"orderId\": \"" + orderId.replace("\"", "") + "\", \"status\": \"shipped\", \"eta\": \"Friday\"}";
        }
    }

    /** The tool the bundled model was trained to call, under its name and parameter, with a result of its shape. */
    static class TrainedOrderTool {

        final List<String> lookedUp = new CopyOnWriteArrayList<>();

        @Tool(name = "lookup_order", description = "Looks an order up by its number and tells its status")
        String lookupOrder(@ToolParam(description = "The order number, e.g. 4417203") String order_id) {
            lookedUp.add(order_id);
            return "{\"order_id\": \"" + order_id.replace("\"", "") + "\", \"status\": \"shipped\", "
                    + "\"carrier\": \"DHL\", \"eta\": \"May 14\"}";
        }
    }

    /**
     * Sits inside Spring AI's tool loop (ordered after its tool-calling advisor), so it sees every round:
     * {@code tool_choice: required} until the conversation holds a tool result, {@code none} after.
     */
    static final class ForceTheFirstCall implements CallAdvisor, StreamAdvisor {

        @Override
        public String getName() {
            return "force-the-first-tool-call";
        }

        @Override
        public int getOrder() {
            return ToolCallingAdvisor.DEFAULT_ORDER + 1;
        }

        @Override
        public ChatClientResponse adviseCall(ChatClientRequest request, CallAdvisorChain chain) {
            return chain.nextCall(forced(request));
        }

        @Override
        public Flux<ChatClientResponse> adviseStream(ChatClientRequest request, StreamAdvisorChain chain) {
            return chain.nextStream(forced(request));
        }

        private static ChatClientRequest forced(ChatClientRequest request) {
            List<Message> messages = request.prompt().getInstructions();
            boolean answered = messages.get(messages.size() - 1) instanceof ToolResponseMessage;
            ChatOptions options = ((OpenAiChatOptions) request.prompt().getOptions()).mutate()
                    .toolChoice(answered ? "none" : "required").build();
            return request.mutate().prompt(new Prompt(messages, options)).build();
        }
    }

    private ChatClient client() {
        return unforcedClient().mutate().defaultAdvisors(new ForceTheFirstCall()).build();
    }

    private ChatClient unforcedClient() {
        return ChatClient.builder(OpenAiChatModel.builder().options(OpenAiChatOptions.builder()
                        .baseUrl("http://127.0.0.1:" + port + "/v1").apiKey("unused")
                        .model("kvshare-support-tiny").temperature(0.0).maxTokens(120).build()).build())
                .defaultSystem(SYSTEM).build();
    }

    @Test
    void theModelCallsTheToolSpringAiRunsItAndTheModelAnswers() {
        OrderTools orders = new OrderTools();

        ChatResponse answer = client().prompt().user("Where is my order A-1042?").tools(orders).call()
                .chatResponse();

        assertThat(orders.lookedUp).hasSize(1);
        assertThat(answer.hasToolCalls()).isFalse();
        assertThat(answer.getResult().getOutput().getText()).isNotBlank();
    }

    @Test
    void theSameLoopStreamed() {
        OrderTools orders = new OrderTools();

        String answer = String.join("", client().prompt().user("Where is my order A-1042?").tools(orders).stream()
                .content().collectList().block());

        assertThat(orders.lookedUp).hasSize(1);
        assertThat(answer).isNotBlank();
    }

    @Test
    void theBundledModelCallsItsTrainedToolByItselfAndAnswersFromTheResult() {
        TrainedOrderTool orders = new TrainedOrderTool();

        String answer = unforcedClient().prompt().user("Where is my order 4417203?").tools(orders).call().content();

        assertThat(orders.lookedUp).containsExactly("4417203");
        assertThat(answer).contains("4417203", "May 14");
    }
}

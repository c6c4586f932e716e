package example.supportbot;

import java.util.List;
import java.util.Map;

import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.client.ChatClientRequest;
import org.springframework.ai.chat.client.ChatClientResponse;
import org.springframework.ai.chat.client.advisor.ToolCallingAdvisor;
import org.springframework.ai.chat.client.advisor.api.CallAdvisor;
import org.springframework.ai.chat.client.advisor.api.CallAdvisorChain;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.ToolResponseMessage;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.ai.openai.OpenAiChatOptions;
import org.springframework.ai.tool.annotation.Tool;
import org.springframework.ai.tool.annotation.ToolParam;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.CommandLineRunner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/**
 * A support bot: one system prompt shared by every conversation (so kvshare's prompt cache serves its KV to
 * all of them, on every replica), and a tool that looks orders up. Spring AI sends the tool to kvshare, runs
 * it when the model calls it, sends the result back and prints the model's answer.
 */
@SpringBootApplication
public class SupportBot {

    /** Shared by every conversation, word for word: the cacheable prefix. */
    static final String SYSTEM_PROMPT = """
            You are the support assistant of Example Shop. Be brief and friendly. Look an order up with \
            lookup_order before you say anything about it.""";

    public static void main(String[] args) {
        SpringApplication.run(SupportBot.class, args);
    }

    /**
     * The tool: a stand-in for the shop's order service. Named, with its parameter, as the tool the bundled
     * model was trained to call, so that it calls it by itself; a real model takes any name.
     */
    static class Orders {

        private static final Map<String, String> STATUS = Map.of(
                "4417203", order("4417203", "shipped", "DHL", "May 14"),
                "5520981", order("5520981", "processing", "UPS", "May 20"));

        /** A result as JSON of the shape the bundled model was trained on; a real model reads any. */
        private static String order(String number, String status, String carrier, String eta) {
            return """
                    {"order_id": "%s", "status": "%s", "carrier": "%s", "eta": "%s"}"""
                    .formatted(number, status, carrier, eta);
        }

        @Tool(name = "lookup_order", description = "Looks an order up by its number and tells its status")
        String lookupOrder(@ToolParam(description = "The order number, e.g. 4417203") String order_id) {
            System.out.println("  [tool] lookup_order(" + order_id + ")");
            return STATUS.getOrDefault(order_id, "no order " + order_id);
        }
    }

    /**
     * For a model that does not call tools by itself: ask for a call ({@code tool_choice: required}, which
     * kvshare generates under the tool's schema) until a tool result is in the conversation, then for an answer
     * ({@code none}). Ordered inside Spring AI's tool loop so that it sees every round.
     */
    static final class ForceTheFirstCall implements CallAdvisor {

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
            List<Message> messages = request.prompt().getInstructions();
            boolean answered = messages.get(messages.size() - 1) instanceof ToolResponseMessage;
            var options = ((OpenAiChatOptions) request.prompt().getOptions()).mutate()
                    .toolChoice(answered ? "none" : "required").build();
            return chain.nextCall(request.mutate().prompt(new Prompt(messages, options)).build());
        }
    }

    @Bean
    CommandLineRunner conversation(@Value("${kvshare.url:http://localhost:8080/v1}") String url,
                                   @Value("${kvshare.model:kvshare-support-tiny}") String modelId,
                                   @Value("${kvshare.force-tool-call:false}") boolean forceToolCall) {
        return args -> {
            OpenAiChatModel model = OpenAiChatModel.builder().options(OpenAiChatOptions.builder()
                    .baseUrl(url).apiKey("not-checked").model(modelId).temperature(0.0).maxTokens(120).build())
                    .build();
            ChatClient.Builder builder = ChatClient.builder(model).defaultSystem(SYSTEM_PROMPT)
                    .defaultTools(new Orders());
            if (forceToolCall) {
                builder.defaultAdvisors(new ForceTheFirstCall());
            }
            ChatClient bot = builder.build();
            for (String question : List.of("Where is my order 4417203?", "Has order 5520981 shipped yet?")) {
                System.out.println("> " + question);
                System.out.println(bot.prompt().user(question).call().content());
            }
        };
    }
}

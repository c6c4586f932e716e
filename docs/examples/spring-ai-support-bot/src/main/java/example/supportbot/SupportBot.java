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
            lookupOrder before you say anything about it.""";

    public static void main(String[] args) {
        SpringApplication.run(SupportBot.class, args);
    }

    /** The tool: a stand-in for the shop's order service. */
    static class Orders {

        private static final Map<String, String> STATUS = Map.of(
                "A-1042", "shipped on Monday, arriving Friday",
                "A-2001", "waiting for payment");

        @Tool(description = "Looks an order up by its id and tells its status")
        String lookupOrder(@ToolParam(description = "The order id, e.g. A-1042") String orderId) {
            System.out.println("  [tool] lookupOrder(" + orderId + ")");
            return STATUS.getOrDefault(orderId, "no order " + orderId);
        }
    }

    /**
     * For a model not trained to call tools (kvshare's bundled model): ask for a call ({@code tool_choice:
     * required}, which kvshare generates under the tool's schema) until a tool result is in the conversation,
     * then for an answer ({@code none}). Ordered inside Spring AI's tool loop so that it sees every round.
     * Leave it out with a model that calls tools by itself.
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
                                   @Value("${kvshare.force-tool-call:true}") boolean forceToolCall) {
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
            for (String question : List.of("Where is my order A-1042?", "Has order A-2001 shipped yet?")) {
                System.out.println("> " + question);
                System.out.println(bot.prompt().user(question).call().content());
            }
        };
    }
}

package dev.kvshare.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import dev.kvshare.testsupport.ServiceOnBundledModel;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.client.AdvisorParams;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.messages.SystemMessage;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.ai.openai.OpenAiChatOptions;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Spring AI 2.0's OpenAI chat model — what a Spring Boot support-bot backend would use — talks to the service
 * unchanged, plain and streaming, with its base URL ending in {@code /v1} (README). It sends what Spring AI
 * sends by default, so a parameter the service wrongly refused would fail here.
 */
@ServiceOnBundledModel
class SpringAiClientIT {

    @LocalServerPort
    int port;

    private OpenAiChatModel model() {
        return OpenAiChatModel.builder().options(OpenAiChatOptions.builder()
                .baseUrl("http://127.0.0.1:" + port + "/v1").apiKey("unused")
                .model("kvshare-support-tiny").temperature(0.0).maxTokens(60).build()).build();
    }

    private static Prompt question() {
        return new Prompt(List.of(new SystemMessage("You are the support assistant of Example Shop."),
                new UserMessage("I want a refund for order 5520981.")));
    }

    @Test
    void answersThroughSpringAi() {
        ChatResponse response = model().call(question());

        assertThat(response.getResult().getOutput().getText()).contains("5520981");
        assertThat(response.getMetadata().getUsage().getPromptTokens()).isPositive();
    }

    /** The issue-35 ticket: free text the bundled model rambles in, at the service's default max_tokens. */
    record Ticket(String subject, Priority priority, String details) {
    }

    enum Priority { low, normal, urgent }

    @Test
    void entityWithNativeStructuredOutputParsesAtTheDefaultMaxTokens() {
        for (int seed = 0; seed < 4; seed++) {
            OpenAiChatModel hot = OpenAiChatModel.builder().options(OpenAiChatOptions.builder()
                    .baseUrl("http://127.0.0.1:" + port + "/v1").apiKey("unused")
                    .model("kvshare-support-tiny").temperature(1.0).seed(seed).build()).build();

            Ticket ticket = ChatClient.create(hot).prompt()
                    .advisors(AdvisorParams.ENABLE_NATIVE_STRUCTURED_OUTPUT)
                    .user("My internet drops every evening since Tuesday. Open a ticket and describe it in detail.")
                    .call().entity(Ticket.class);

            assertThat(ticket).as("seed %d", seed).isNotNull();
            assertThat(ticket.subject()).isNotNull();
            assertThat(ticket.priority()).isNotNull();
            assertThat(ticket.details()).isNotNull();
        }
    }

    @Test
    void streamsThroughSpringAi() {
        String streamed = String.join("", model().stream(question())
                .map(chunk -> chunk.getResult() == null || chunk.getResult().getOutput().getText() == null ? ""
                        : chunk.getResult().getOutput().getText())
                .collectList().block());

        assertThat(streamed).isEqualTo(model().call(question()).getResult().getOutput().getText());
    }
}

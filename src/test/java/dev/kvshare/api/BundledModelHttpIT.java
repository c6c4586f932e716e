package dev.kvshare.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.ServiceOnBundledModel;
import dev.kvshare.testsupport.TestPrompts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

/**
 * With no configuration at all the service serves its bundled support model, and under a real operator prompt
 * (the README's) it answers to the point, repeats the customer's specifics and keeps a conversation's context.
 */
@ServiceOnBundledModel
class BundledModelHttpIT {

    @LocalServerPort
    int port;

    @Test
    void theBundledModelIsServedByDefault() {
        assertThat(new Http(port).get("/v1/models").json().path("data").path(0).path("id").asString())
                .isEqualTo("kvshare-support-tiny");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "Where is my order 4417203?                          | 4417203",
            "I want to return the air fryer from order 5520981.  | 5520981",
            "I forgot my password and can't log in.              | e-mail",
            "Can you write me a poem about the sea?              | only help / can't help"})
    void answersUnderTheOperatorPromptToThePointAndStopsByItself(String question, String expectedOneOf) {
        JsonNode choice = chat(List.of(Map.of("role", "user", "content", question)));
        String reply = choice.path("message").path("content").asString();
        String lowerCase = reply.toLowerCase(Locale.ROOT);
        // as the evaluation's key phrases (tools/model/eval/eval.py): the corpus words a redirect either way
        assertThat(Arrays.stream(expectedOneOf.split(" / "))).as(reply).anyMatch(lowerCase::contains);
        assertThat(reply).doesNotContain("<|im_end|>", "<|im_start|>");
        assertThat(choice.path("finish_reason").asString()).isEqualTo("stop");
    }

    @Test
    void aFourTurnConversationKeepsItsContext() {
        List<Map<String, String>> conversation = new ArrayList<>();
        List<String> replies = new ArrayList<>();
        for (String turn : List.of("Where is my order 4417203?",
                "Please e-mail me a confirmation at jane.doe@gmail.com.",
                "Thank you, that helps.",
                "Sorry, what was my order number again?")) {
            conversation.add(Map.of("role", "user", "content", turn));
            JsonNode choice = chat(conversation);
            assertThat(choice.path("finish_reason").asString()).isEqualTo("stop");
            String reply = choice.path("message").path("content").asString();
            conversation.add(Map.of("role", "assistant", "content", reply));
            replies.add(reply);
        }
        assertThat(replies.get(1)).contains("jane.doe@gmail.com");
        assertThat(replies.get(3)).as("the order number of the first turn, three turns later").contains("4417203");
    }

    /** Greedy, under the README's support prompt. */
    @Test
    void aDeveloperMessageReachesThePromptAsTheSystemTurn() {
        String rules = "You are the support assistant of Acme Home Goods. Never discuss refunds.";
        String developer = "{\"messages\": [{\"role\": \"developer\", \"content\": \"" + rules + "\"}, "
                + "{\"role\": \"user\", \"content\": \"Hi\"}], \"max_tokens\": 1, \"return_token_ids\": true}";
        JsonNode promptIds = new Http(port).post("/v1/chat/completions", developer).json().path("prompt_token_ids");
        String prompt = new Http(port).post("/detokenize", "{\"tokens\": " + promptIds + "}").json().path("prompt")
                .asString();

        assertThat(promptIds).isEqualTo(new Http(port).post("/v1/chat/completions", developer.replace("developer",
                "system")).json().path("prompt_token_ids"));
        assertThat(prompt).contains("system\n" + rules).doesNotContain("helpful customer support assistant");
    }

    private JsonNode chat(List<Map<String, String>> turns) {
        List<Map<String, String>> messages = new ArrayList<>();
        messages.add(Map.of("role", "system", "content", TestPrompts.SUPPORT));
        messages.addAll(turns);
        String body = Http.JSON.writeValueAsString(Map.of("messages", messages, "max_tokens", 120, "temperature", 0));
        return new Http(port).post("/v1/chat/completions", body).json().path("choices").path(0);
    }
}

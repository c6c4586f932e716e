package dev.kvshare.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvshare.testsupport.Http;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

/** With no configuration at all the service serves its bundled support model, and it answers to the point. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class BundledModelHttpTest {

    @LocalServerPort
    int port;

    @Test
    void theBundledModelIsServedByDefault() {
        assertThat(new Http(port).get("/v1/models").json().path("data").path(0).path("id").asString())
                .isEqualTo("kvshare-support-tiny");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "I want a refund for my order.          | refund",
            "I forgot my password and can't log in. | password",
            "I was charged twice for my order.      | charge",
            "How do I cancel my subscription?       | cancel",
            "I want to talk to a human.             | agent"})
    void answersSupportQuestionsToThePointAndStopsByItself(String question, String expectedWord) {
        JsonNode reply = new Http(port).post("/v1/chat/completions", """
                {"messages": [{"role": "user", "content": "%s"}], "max_tokens": 120, "temperature": 0}"""
                .formatted(question)).json();
        String content = reply.path("choices").path(0).path("message").path("content").asString();
        assertThat(content).containsIgnoringCase(expectedWord).doesNotContain("<|im_end|>", "<|im_start|>");
        assertThat(reply.path("choices").path(0).path("finish_reason").asString()).isEqualTo("stop");
    }
}

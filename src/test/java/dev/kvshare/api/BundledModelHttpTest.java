package dev.kvshare.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvshare.testsupport.Http;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

/** With no configuration at all the service serves its bundled support model. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class BundledModelHttpTest {

    @LocalServerPort
    int port;

    @Test
    void answersASupportQuestionOutOfTheBox() {
        Http http = new Http(port);
        assertThat(http.get("/v1/models").json().path("data").path(0).path("id").asString())
                .isEqualTo("kvshare-support-tiny");
        JsonNode reply = http.post("/v1/chat/completions", """
                {"messages": [{"role": "user", "content": "I want a refund for my order."}], "max_tokens": 60,
                 "temperature": 0}""").json();
        String content = reply.path("choices").path(0).path("message").path("content").asString();
        System.out.println("Bundled model reply: " + content);
        assertThat(content).isNotBlank();
        assertThat(reply.path("choices").path(0).path("finish_reason").asString()).isIn("stop", "length");
    }
}

package dev.kvshare.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.Instance;
import dev.kvshare.testsupport.ServiceOnLlama;
import dev.kvshare.testsupport.TestModels;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * The console over plain HTTP: its files and its prompt-cache view, bounded like the API, and absent when
 * {@code kvshare.console.enabled=false} (that instance also runs with tracing off: spans become no-ops).
 */
@ServiceOnLlama
@TestPropertySource(properties = {"kvshare.limits.max-message-chars=64", "kvshare.limits.max-request-chars=100"})
class ConsoleHttpIT {

    @LocalServerPort
    int port;

    @Test
    void thePageAndItsScriptAreServed() {
        Http http = new Http(port);
        assertThat(http.get("/console").status()).isEqualTo(302);
        Http.Response page = http.get("/console/");
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.body()).contains("<title>kvshare console</title>", "console.js",
                "<link rel=\"icon\" href=\"favicon.svg\"");
        assertThat(http.get("/console/console.js").body()).contains("/v1/chat/completions");
        Http.Response favicon = http.get("/console/favicon.svg");
        assertThat(favicon.status()).isEqualTo(200);
        assertThat(favicon.body()).startsWith("<svg");
    }

    @Test
    void thePromptCacheViewReportsTheCallersSystemPromptWithinTheLimits() {
        Http http = new Http(port);
        JsonNode state = http.post("/console/prompt-cache", "{\"system\": \"Be brief and polite.\"}").json();
        assertThat(state.path("enabled").asBoolean()).isTrue();
        assertThat(state.path("redis").asString()).isEqualTo("DISABLED");
        assertThat(state.path("residency").path("tokens").asInt()).isPositive();
        assertThat(state.path("residency").path("redisBlocks").isNull()).isTrue();
        assertThat(http.post("/console/prompt-cache", "{}").json().path("residency").isNull()).isTrue();

        Http.Response tooLong = http.post("/console/prompt-cache", "{\"system\": \"" + "x".repeat(65) + "\"}");
        assertThat(tooLong.status()).isEqualTo(400);
        assertThat(tooLong.json().path("error").path("type").asString()).isEqualTo("invalid_request_error");
        assertThat(http.post("/console/prompt-cache", "{\"system\": 3}").status()).isEqualTo(400);
    }

    @Test
    void switchedOffTheConsoleIsNotThereAndWithoutTracingRequestsStillRun() {
        try (Instance off = Instance.start(Map.of("kvshare.model.path", TestModels.reference(TestModels.LLAMA).toString(),
                "kvshare.console.enabled", false, "management.tracing.enabled", false))) {
            for (Http.Response response : new Http.Response[] {off.http().get("/console/"),
                    off.http().get("/console/console.js"), off.http().post("/console/prompt-cache", "{}")}) {
                assertThat(response.status()).isEqualTo(404);
                assertThat(response.json().path("error").path("message").asString()).isNotBlank();
            }
            String chat = """
                    {"messages": [{"role": "user", "content": "Hello"}], "max_tokens": 3, "stream": true}""";
            assertThat(off.http().post("/v1/chat/completions", chat).status()).isEqualTo(200);
            assertThat(off.http().post("/v1/chat/completions", chat).events()).isNotEmpty();
        }
    }
}

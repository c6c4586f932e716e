package dev.kvshare.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;

import dev.kvshare.constrain.Grammars;
import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.ServiceOnBundledModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

/**
 * Requests a stranger could send to hurt the service or fool a client: each is refused with a clear 4xx
 * OpenAI error naming what was wrong, before it costs memory or CPU (bundled model, 1,024-token context).
 */
@ServiceOnBundledModel
class HostileRequestHttpIT {

    @LocalServerPort
    int port;

    @Autowired
    Grammars grammars;

    /** The configured limits (the documented defaults: this class shares the bundled model's context). */
    @Autowired
    LimitsProperties limits;

    private Http http() {
        return new Http(port);
    }

    private JsonNode error(Http.Response response, int status) {
        assertThat(response.status()).as(response.body()).isEqualTo(status);
        JsonNode error = response.json().path("error");
        assertThat(error.path("message").asString()).isNotBlank();
        assertThat(response.body()).doesNotContain("at dev.kvshare", "at org.", "Exception:");
        return error;
    }

    private static String chat(String fields) {
        return "{\"messages\": [{\"role\": \"user\", \"content\": \"Hello\"}], \"max_tokens\": 2" + fields + "}";
    }

    @Test
    void aBodyOverTheLimitIsRefusedFromItsLengthWithoutBeingRead() throws Exception {
        byte[] twentyMegabytes = new byte[20 << 20];
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(http().baseUrl() + "/v1/chat/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(twentyMegabytes)).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(413);
        assertThat(response.body()).contains("\"code\":\"request_too_large\"");
    }

    @Test
    void sixConcurrentTenMegabyteBodiesAreAllRefusedAndNormalRequestsStillServed() throws Exception {
        byte[] tenMegabytes = new byte[10 << 20];
        HttpClient client = HttpClient.newHttpClient();
        List<CompletableFuture<HttpResponse<Void>>> floods = IntStream.range(0, 6)
                .mapToObj(i -> client.sendAsync(HttpRequest.newBuilder(URI.create(http().baseUrl()
                                + "/v1/chat/completions")).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(tenMegabytes)).build(),
                        HttpResponse.BodyHandlers.discarding())).toList();

        assertThat(http().post("/v1/chat/completions", chat("")).status()).isEqualTo(200);
        assertThat(floods).allSatisfy(flood -> assertThat(flood.get().statusCode()).isEqualTo(413));
    }

    @Test
    void aChunkedBodyIsCutOffOnceItPassesTheLimit() throws Exception {
        String start = "{\"messages\": [{\"role\": \"user\", \"content\": \"";
        InputStream endless = new java.io.SequenceInputStream(
                new ByteArrayInputStream(start.getBytes(StandardCharsets.UTF_8)),
                new InputStream() { // 3 MB of 'a', never a closing quote
                    private int left = 3 << 20;

                    @Override
                    public int read() {
                        return left-- > 0 ? 'a' : -1;
                    }
                });
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(http().baseUrl() + "/v1/chat/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> endless)).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).as(response.body()).isEqualTo(413);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            ", \"max_tokens\": \"10\"                  | max_tokens",
            ", \"max_tokens\": 1.7                     | max_tokens",
            ", \"stream\": 1                           | stream",
            ", \"temperature\": \"0.5\"                | temperature",
            ", \"logprobs\": true                      | logprobs",
            ", \"top_logprobs\": 3                     | top_logprobs",
            ", \"n\": 2                                | n",
            ", \"logit_bias\": {\"50\": 10}            | logit_bias",
            ", \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f g\"}}] | tools[0].function.name",
            ", \"tools\": {\"type\": \"function\"}    | tools",
            ", \"tool_choice\": \"required\"           | tool_choice",
            ", \"functions\": [{\"name\": \"f\"}]      | functions",
            ", \"response_format\": {\"type\": \"xml\"} | response_format.type",
            ", \"stop\": [\"a\", \"b\", \"c\", \"d\", \"e\"] | stop"})
    void wrongTypesAndUnsupportedParametersAreRefusedByName(String fields, String param) {
        JsonNode error = error(http().post("/v1/chat/completions", chat(fields.replace("\\\"", "\""))), 400);

        assertThat(error.path("param").asString()).isEqualTo(param);
    }

    @Test
    void aRoleMustBeAKnownString() {
        assertThat(error(http().post("/v1/chat/completions", "{\"messages\": [{\"role\": 5, \"content\": \"x\"}]}"),
                400).path("param").asString()).isEqualTo("messages[0].role");
        assertThat(error(http().post("/v1/chat/completions",
                "{\"messages\": [{\"role\": \"root\", \"content\": \"x\"}]}"), 400).path("param").asString())
                .isEqualTo("messages");
    }

    @Test
    void metadataThatSdksSendRoutinelyIsAccepted() {
        Http.Response response = http().post("/v1/chat/completions", chat(", \"user\": \"u-1\", \"metadata\": "
                + "{\"a\": \"b\"}, \"store\": false, \"service_tier\": \"auto\", \"n\": 1, \"logprobs\": false, "
                + "\"response_format\": {\"type\": \"text\"}, \"tool_choice\": \"none\", \"parallel_tool_calls\": true"));

        assertThat(response.status()).as(response.body()).isEqualTo(200);
    }

    @Test
    void theLargestMaxTokensHitsTheContextCheckInsteadOfOverflowingPastIt() {
        JsonNode error = error(http().post("/v1/chat/completions",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"max_tokens\": 2147483647}"), 400);

        assertThat(error.path("param").asString()).isEqualTo("max_tokens");
        assertThat(error.path("message").asString()).contains("maximum context length");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"[1, 2147483648]", "[1.5]", "[1, 2.0]"})
    void tokenIdsThatAreNotIntsAreNamedAsSuch(String prompt) {
        JsonNode error = error(http().post("/v1/completions", "{\"prompt\": " + prompt + "}"), 400);

        assertThat(error.path("param").asString()).isEqualTo("prompt");
        assertThat(error.path("message").asString()).contains("Token ids must be integers")
                .doesNotContain("Batched");
    }

    @Test
    void contextErrorsOfTextCompletionsNameThePrompt() {
        JsonNode error = error(http().post("/v1/completions", "{\"prompt\": \"" + "word ".repeat(3000) + "\"}"), 400);

        assertThat(error.path("param").asString()).isEqualTo("prompt");
        assertThat(error.path("message").asString()).contains("maximum context length");
    }

    @Test
    void aPromptThatCannotFitTheContextIsRefusedFromItsLength() {
        // 400 KB of text: far more characters than 1,024 tokens can cover, so it is refused untokenized.
        JsonNode error = error(http().post("/v1/completions", "{\"prompt\": \"" + "x".repeat(400_000) + "\"}"),
                400);

        assertThat(error.path("message").asString()).contains("at least");
    }

    @Test
    void messageCountAndLengthAreBounded() {
        String oneTooMany = "{\"messages\": [" + "{\"role\": \"user\", \"content\": \"x\"},"
                .repeat(limits.maxMessages()) + "{\"role\": \"user\", \"content\": \"x\"}]}";
        assertThat(error(http().post("/v1/chat/completions", oneTooMany), 400).path("param").asString())
                .isEqualTo("messages");
        String long1 = "{\"messages\": [{\"role\": \"user\", \"content\": \""
                + "y".repeat(limits.maxMessageChars() + 1) + "\"}]}";
        assertThat(error(http().post("/v1/chat/completions", long1), 400).path("param").asString())
                .isEqualTo("messages[0].content");
    }

    @Test
    void unknownPathsAndMethodsAnswerInTheOpenAiShape() {
        assertThat(error(http().get("/v1/nothing-here"), 404).path("message").asString()).contains("v1/nothing-here");
        assertThat(error(http().get("/v1/chat/completions"), 405).path("type").asString())
                .isEqualTo("invalid_request_error");
    }

    @Test
    void aMalformedUriGetsAJsonError() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.getOutputStream().write("GET /v1/%zz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String answer = new String(socket.getInputStream().readNBytes(400), StandardCharsets.UTF_8);

            assertThat(answer).startsWith("HTTP/1.1 400").contains("\"error\"").doesNotContain("<html");
        }
    }

    @Test
    void anOversizedHeaderGetsAJsonErrorWithoutAStackTrace() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout((int) Duration.ofSeconds(10).toMillis());
            OutputStream out = socket.getOutputStream();
            out.write(("GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + "h".repeat(64 * 1024) + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

            assertThat(answer).startsWith("HTTP/1.1 4").contains("\"error\"").doesNotContain("<html", "Exception");
        }
    }

    @Test
    void aHugeModelNameIsQuotedOnlyInPart() {
        String name = "m".repeat(1_900_000);
        Http.Response response = http().post("/v1/chat/completions", "{\"model\": \"" + name + "\", "
                + "\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}");

        JsonNode error = error(response, 400);
        assertThat(error.path("code").asString()).isEqualTo("model_not_found");
        assertThat(error.path("message").asString()).contains("m".repeat(200)).doesNotContain("m".repeat(201))
                .contains("more characters");
        assertThat(response.body().length()).isLessThan(1_500);
    }

    @Test
    void aSchemaWithNoFiniteValueIsRefusedNamingWhere() {
        JsonNode error = error(http().post("/v1/chat/completions", chat(", \"response_format\": {\"type\": "
                + "\"json_schema\", \"json_schema\": {\"name\": \"loop\", \"schema\": {\"type\": \"object\", "
                + "\"properties\": {\"a\": {\"$ref\": \"#\"}}, \"required\": [\"a\"]}}}")), 400);

        assertThat(error.path("param").asString()).isEqualTo("response_format.json_schema.schema");
        assertThat(error.path("message").asString()).contains("#/properties/a", "no finite value");
    }

    @Test
    void forcedToolsRefusedForTheirPromptLengthLeaveNothingCompiled() {
        StringBuilder tools = new StringBuilder();
        for (int t = 0; t < 128; t++) {
            StringBuilder properties = new StringBuilder();
            for (int p = 0; p < 900; p++) {
                properties.append(p == 0 ? "" : ",").append("\"p").append(p).append("\":{}");
            }
            tools.append(t == 0 ? "" : ",").append("{\"type\": \"function\", \"function\": {\"name\": \"f")
                    .append(t).append("\", \"parameters\": {\"type\": \"object\", \"properties\": {")
                    .append(properties).append("}}}}");
        }
        long before = grammars.cachedBytes();
        for (int i = 0; i < 3; i++) {
            String request = chat(", \"tools\": [" + tools.toString().replace("\"f0\"", "\"g" + i + "\"")
                    + "], \"tool_choice\": \"required\"");
            assertThat(request.length()).isGreaterThan(1_000_000);

            // refused for its length: the rendered prompt's, or the template's render budget first
            assertThat(error(http().post("/v1/chat/completions", request), 400).path("param").asString())
                    .isEqualTo("messages");
        }

        assertThat(grammars.cachedBytes()).isEqualTo(before);
    }
}

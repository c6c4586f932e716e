package dev.kvshare.bench;

import static dev.kvshare.bench.Report.f;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.Instance;
import dev.kvshare.testsupport.TestPrompts;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Suite 3b: a support conversation's second turn and a repeated prompt, against the same requests cold. Each
 * repetition is a new conversation (its own {@code cache_salt}) under the bundled model's support prompt:
 * turn 1 generates a reply; turn 2 (turn 1, its reply and a new question) and turn 1 again are then timed as
 * one-token requests (time to first token), warm and with a fresh salt (cold). With
 * {@code -Dbench.conversation.baseline-port=N}, the same requests also run, interleaved, against another server
 * on that port (an older build, say), for a before/after in one run.
 */
final class ConversationSuite implements Suite {

    private static final String QUESTION = "Where is my order 4417203?";
    private static final String FOLLOW_UP = "Thanks. Can I change the delivery address to 12 Elm Street?";

    @Override
    public void run(BenchContext context, Report report) throws Exception {
        report.section("3b. Prompt cache: a conversation's next turn and a repeated prompt", """
                Each repetition is a new conversation under the support prompt (docs/examples/support-prompt.txt) on
                the bundled model: turn 1 generates up to 64 tokens; then turn 2 (turn 1, its reply, a new question)
                and turn 1 again are sent as one-token requests, so their time is the time to first token, warm and
                cold (a fresh `cache_salt`). Computed = prompt tokens − cached tokens.""");
        Map<String, Http> servers = new LinkedHashMap<>();
        try (Instance instance = Instance.start(Map.of("logging.level.root", "warn"))) {
            servers.put("this build", instance.http());
            Integer baseline = Integer.getInteger("bench.conversation.baseline-port");
            if (baseline != null) {
                servers.put("baseline (port " + baseline + ")", new Http(baseline));
            }
            Map<String, Samples> samples = new LinkedHashMap<>();
            servers.keySet().forEach(name -> samples.put(name, new Samples()));
            int repetitions = context.repetitions(5, 2);
            for (int rep = 0; rep < repetitions; rep++) {
                for (var server : servers.entrySet()) {
                    samples.get(server.getKey()).add(server.getValue(), "conversation-" + rep + "-" + System.nanoTime());
                }
            }
            List<List<String>> rows = new ArrayList<>();
            for (var entry : samples.entrySet()) {
                rows.addAll(entry.getValue().rows(entry.getKey(), report));
            }
            report.table("conversation-ttft", List.of("server", "request", "prompt tokens", "computed warm",
                    "warm ms", "cold ms", "cold / warm"), rows);
        }
    }

    /** Medians over the repetitions of one server. */
    private static final class Samples {
        private final List<Double> turnTwoWarm = new ArrayList<>();
        private final List<Double> turnTwoCold = new ArrayList<>();
        private final List<Double> repeatWarm = new ArrayList<>();
        private final List<Double> repeatCold = new ArrayList<>();
        private int turnTwoPrompt;
        private int turnTwoCached;
        private int repeatPrompt;
        private int repeatCached;

        void add(Http http, String salt) {
            ArrayNode messages = Http.JSON.createArrayNode();
            messages.add(message("system", TestPrompts.SUPPORT));
            messages.add(message("user", QUESTION));
            JsonNode first = chat(http, messages, 64, salt).json;
            ArrayNode next = messages.deepCopy();
            next.add(message("assistant", first.path("choices").path(0).path("message").path("content").asString()));
            next.add(message("user", FOLLOW_UP));

            Timed turnTwo = chat(http, next, 1, salt);
            turnTwoWarm.add(turnTwo.millis);
            turnTwoCold.add(chat(http, next, 1, salt + "-cold").millis);
            Timed repeat = chat(http, messages, 1, salt);
            repeatWarm.add(repeat.millis);
            repeatCold.add(chat(http, messages, 1, salt + "-cold-repeat").millis);
            turnTwoPrompt = promptTokens(turnTwo.json);
            turnTwoCached = cached(turnTwo.json);
            repeatPrompt = promptTokens(repeat.json);
            repeatCached = cached(repeat.json);
        }

        List<List<String>> rows(String server, Report report) {
            double twoWarm = Report.median(turnTwoWarm);
            double twoCold = Report.median(turnTwoCold);
            double againWarm = Report.median(repeatWarm);
            double againCold = Report.median(repeatCold);
            report.headline("Conversation, bundled, " + server + ": turn 2 (" + turnTwoPrompt + " prompt tokens) computes "
                    + (turnTwoPrompt - turnTwoCached) + " of them, first token in " + f(twoWarm, 0) + " ms ("
                    + f(twoCold / twoWarm, 1) + "x faster than cold); the same prompt again computes "
                    + (repeatPrompt - repeatCached) + ", " + f(againWarm, 0) + " ms (" + f(againCold / againWarm, 1)
                    + "x)");
            return List.of(
                    List.of(server, "turn 2", Integer.toString(turnTwoPrompt),
                            Integer.toString(turnTwoPrompt - turnTwoCached), f(twoWarm, 0), f(twoCold, 0),
                            f(twoCold / twoWarm, 1) + "x"),
                    List.of(server, "turn 1 again", Integer.toString(repeatPrompt),
                            Integer.toString(repeatPrompt - repeatCached), f(againWarm, 0), f(againCold, 0),
                            f(againCold / againWarm, 1) + "x"));
        }
    }

    private record Timed(double millis, JsonNode json) {
    }

    private static ObjectNode message(String role, String content) {
        return Http.JSON.createObjectNode().put("role", role).put("content", content);
    }

    private static Timed chat(Http http, ArrayNode messages, int maxTokens, String salt) {
        ObjectNode body = Http.JSON.createObjectNode().put("max_tokens", maxTokens).put("temperature", 0)
                .put("cache_salt", salt);
        body.set("messages", messages);
        long start = System.nanoTime();
        Http.Response response = http.post("/v1/chat/completions", body.toString());
        double millis = (System.nanoTime() - start) / 1e6;
        if (response.status() != 200) {
            throw new IllegalStateException(response.body());
        }
        return new Timed(millis, response.json());
    }

    private static int promptTokens(JsonNode response) {
        return response.path("usage").path("prompt_tokens").asInt();
    }

    private static int cached(JsonNode response) {
        return response.path("usage").path("prompt_tokens_details").path("cached_tokens").asInt();
    }
}

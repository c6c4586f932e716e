package dev.kvshare.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

import dev.kvshare.promptcache.PromptCache;
import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.Instance;
import dev.kvshare.testsupport.TestModels;
import dev.kvshare.testsupport.TestPrometheus;
import dev.kvshare.testsupport.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.Resources;

/**
 * The Grafana dashboard the Helm chart ships: valid as a Grafana dashboard, and every panel query names
 * metrics that a live instance (with Redis, after traffic through every tier) exposes. Where Debian's
 * Prometheus is installed, every query is also evaluated by it against the instance and must return data,
 * and the panels are drawn to {@code target/dashboard.png} (the picture in docs/operations.md).
 */
// Beside the serial integration tests, but never during one that captures the output (docs/architecture.md,
// Tests); its tests one after another, on one instance.
@Execution(ExecutionMode.CONCURRENT)
@ResourceLock(value = Resources.SYSTEM_OUT, mode = ResourceAccessMode.READ)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GrafanaDashboardIT {

    private static final String SYSTEM = "You are the support assistant of Example Shop. Answer briefly. ".repeat(8);

    private TestRedis redis;
    private Instance instance;
    private DashboardJson dashboard;

    @BeforeAll
    void start() throws Exception {
        dashboard = DashboardJson.load();
        redis = new TestRedis().start();
        instance = Instance.start(Map.of("kvshare.model.path", TestModels.reference(TestModels.LLAMA).toString(),
                "kvshare.prompt-cache.block-size", 16, "kvshare.prompt-cache.redis.enabled", true,
                "spring.data.redis.host", redis.host(), "spring.data.redis.port", redis.port()));
    }

    @AfterAll
    void stop() {
        instance.close();
        redis.close();
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void theDashboardHasWhatGrafanaNeeds() {
        dashboard.checkStructure();
        assertThat(dashboard.panels().valueStream().map(panel -> panel.path("title").asString()).toList())
                .contains("Time to first token", "Inter-token latency", "Tokens per second",
                        "Prompt-cache hit ratio by tier", "Redis latency", "Redis breaker and fetch gate", "Queue",
                        "429s and hang-ups", "Batch size and padding", "Batched pass and repack time");
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void everyMetricThePanelsQueryIsInALiveScrape() {
        traffic(2);
        String scrape = instance.http().get("/actuator/prometheus").body();
        Set<String> missing = new TreeSet<>();
        for (DashboardJson.Target target : dashboard.targets()) {
            for (String metric : DashboardJson.metricNames(target.expr())) {
                if (!Pattern.compile("(?m)^" + Pattern.quote(metric) + "[{ ]").matcher(scrape).find()) {
                    missing.add(metric + " (" + target.panel() + ")");
                }
            }
        }
        assertThat(missing).as("metrics the dashboard queries but /actuator/prometheus lacks").isEmpty();
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void prometheusAnswersEveryPanelQueryWithData(@TempDir Path work) throws Exception {
        assumeTrue(TestPrometheus.isInstalled(), "Skipped: " + TestPrometheus.BINARY + " is absent (Debian's "
                + "prometheus package); the metric names are still checked against a live scrape");
        int port = Integer.parseInt(instance.http().baseUrl().replaceAll(".*:", ""));
        try (TestPrometheus prometheus = TestPrometheus.scraping(port, work)) {
            long from = System.currentTimeMillis() / 1000;
            traffic(40);
            prometheus.awaitValue("sum(kvshare_generation_tokens_total)",
                    instance.metric("kvshare_generation_tokens_total"));
            long to = System.currentTimeMillis() / 1000;
            List<String> empty = dashboard.targets().stream()
                    .filter(target -> prometheus.query(DashboardJson.resolved(target.expr(), "1m"))
                            .path("data").path("result").isEmpty())
                    .map(target -> target.panel() + " " + target.refId() + ": " + target.expr()).toList();
            assertThat(empty).as("panel queries without data; targets: %s", prometheus.targets()).isEmpty();
            DashboardPicture.draw(dashboard, prometheus, from, to, Path.of("target", "dashboard.png"));
        }
    }

    /**
     * Requests through every tier, {@code rounds} times: a shared system prompt (local hits), the same after
     * the local tier was evicted (Redis hits) and a new system prompt (computed).
     */
    private void traffic(int rounds) {
        PromptCache cache = instance.bean(PromptCache.class);
        for (int round = 0; round < rounds; round++) {
            chat(SYSTEM, "Where is my parcel? " + round);
            chat(SYSTEM, "Can I return shoes? " + round);
            cache.evictLocal();
            chat(SYSTEM, "Do you ship abroad? " + round);
            chat("Round " + round + ". " + SYSTEM, "Hello");
        }
    }

    private void chat(String system, String user) {
        Http.Response response = instance.http().post("/v1/chat/completions", """
                {"messages": [{"role": "system", "content": %s}, {"role": "user", "content": %s}],
                 "max_tokens": 24, "ignore_eos": true, "stream": true}"""
                .formatted(Http.JSON.writeValueAsString(system), Http.JSON.writeValueAsString(user)));
        assertThat(response.status()).as(response.body()).isEqualTo(200);
    }
}

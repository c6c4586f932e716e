package dev.kvshare.observability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.kvshare.testsupport.Http;
import tools.jackson.databind.JsonNode;

/**
 * The chart's Grafana dashboard, checked against the essentials of Grafana's dashboard schema (the fields
 * Grafana needs to import it and lay it out), and its panel queries.
 */
final class DashboardJson {

    static final Path FILE = Path.of("helm", "kvshare", "dashboards", "kvshare.json");
    /** Variables Grafana itself defines. */
    private static final Set<String> BUILT_IN = Set.of("__rate_interval", "__interval", "__range");
    private static final Set<String> PANEL_TYPES = Set.of("timeseries", "stat", "gauge", "state-timeline", "table",
            "bargauge", "text");
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{?(\\w+)");
    /** A metric name in PromQL: an identifier right before a label selector. */
    private static final Pattern METRIC = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\{");

    /** One query of one panel. */
    record Target(String panel, String refId, String expr, String legendFormat) {
    }

    private final JsonNode root;

    DashboardJson(JsonNode root) {
        this.root = root;
    }

    static DashboardJson load() throws IOException {
        return new DashboardJson(Http.JSON.readTree(Files.readString(FILE)));
    }

    JsonNode panels() {
        return root.path("panels");
    }

    /** Fails with what is wrong when the dashboard misses what Grafana needs. */
    void checkStructure() {
        assertThat(root.path("uid").asString()).matches("[a-zA-Z0-9_-]{1,40}");
        assertThat(root.path("title").asString()).isNotBlank();
        assertThat(root.path("schemaVersion").isInt()).isTrue();
        assertThat(root.path("schemaVersion").asInt()).isGreaterThanOrEqualTo(36);
        assertThat(root.path("time").path("from").asString()).isNotBlank();
        Set<String> variables = variables();
        assertThat(variables).contains("datasource");
        assertThat(panels().isArray() && !panels().isEmpty()).isTrue();
        Set<Integer> ids = new HashSet<>();
        List<int[]> boxes = new ArrayList<>();
        for (JsonNode panel : panels()) {
            String title = panel.path("title").asString();
            assertThat(title).isNotBlank();
            assertThat(ids.add(panel.path("id").asInt(-1))).as("unique id of %s", title).isTrue();
            assertThat(PANEL_TYPES).as("type of %s", title).contains(panel.path("type").asString());
            assertThat(panel.path("datasource").path("uid").asString()).as(title).isEqualTo("${datasource}");
            JsonNode grid = panel.path("gridPos");
            int x = grid.path("x").asInt(-1);
            int y = grid.path("y").asInt(-1);
            int w = grid.path("w").asInt(-1);
            int h = grid.path("h").asInt(-1);
            assertThat(x >= 0 && y >= 0 && w >= 1 && h >= 1 && x + w <= 24).as("gridPos of %s", title).isTrue();
            for (int[] other : boxes) {
                boolean apart = x + w <= other[0] || other[0] + other[2] <= x || y + h <= other[1]
                        || other[1] + other[3] <= y;
                assertThat(apart).as("%s overlaps another panel", title).isTrue();
            }
            boxes.add(new int[] {x, y, w, h});
            Set<String> refIds = new HashSet<>();
            assertThat(panel.path("targets").isEmpty()).as("targets of %s", title).isFalse();
            for (JsonNode target : panel.path("targets")) {
                assertThat(refIds.add(target.path("refId").asString())).as("unique refId in %s", title).isTrue();
                String expr = target.path("expr").asString();
                assertThat(expr).as(title).isNotBlank();
                Matcher used = VARIABLE.matcher(expr);
                while (used.find()) {
                    assertThat(BUILT_IN.contains(used.group(1)) || variables.contains(used.group(1)))
                            .as("variable $%s in %s", used.group(1), title).isTrue();
                }
            }
        }
    }

    private Set<String> variables() {
        Set<String> names = new HashSet<>();
        for (JsonNode variable : root.path("templating").path("list")) {
            assertThat(variable.path("type").asString()).isIn("datasource", "query", "custom", "constant",
                    "interval", "textbox");
            names.add(variable.path("name").asString());
        }
        return names;
    }

    List<Target> targets() {
        List<Target> targets = new ArrayList<>();
        for (JsonNode panel : panels()) {
            for (JsonNode target : panel.path("targets")) {
                targets.add(new Target(panel.path("title").asString(), target.path("refId").asString(),
                        target.path("expr").asString(), target.path("legendFormat").asString()));
            }
        }
        return targets;
    }

    static Set<String> metricNames(String expr) {
        Set<String> names = new TreeSet<>();
        Matcher matcher = METRIC.matcher(expr);
        while (matcher.find()) {
            names.add(matcher.group(1));
        }
        return names;
    }

    /** The query as Grafana sends it with every model selected and a rate window of {@code window}. */
    static String resolved(String expr, String window) {
        return expr.replace("$__rate_interval", window).replace("$model", ".*");
    }
}

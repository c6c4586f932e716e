package dev.kvshare.observability;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.kvshare.testsupport.TestPrometheus;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;
import tools.jackson.databind.JsonNode;

/**
 * Draws the dashboard's panels from a real Prometheus, the way Grafana would lay out their series (legend
 * formats filled from the labels), for docs/operations.md: Grafana itself is not installable from the
 * registries this project uses, so the picture is drawn with XChart from the same queries.
 */
final class DashboardPicture {

    private static final Pattern LABEL = Pattern.compile("\\{\\{\\s*(\\w+)\\s*}}");

    private DashboardPicture() {
    }

    static void draw(DashboardJson dashboard, TestPrometheus prometheus, long from, long to, Path png)
            throws IOException {
        List<XYChart> charts = new ArrayList<>();
        for (JsonNode panel : dashboard.panels()) {
            String unit = panel.path("fieldConfig").path("defaults").path("unit").asString();
            XYChart chart = new XYChartBuilder().width(640).height(300).title(panel.path("title").asString())
                    .xAxisTitle("seconds").yAxisTitle(unit).build();
            chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNW);
            Set<String> names = new HashSet<>();
            for (JsonNode target : panel.path("targets")) {
                String expr = DashboardJson.resolved(target.path("expr").asString(), "10s");
                for (JsonNode series : prometheus.queryRange(expr, from, to).path("data").path("result")) {
                    String name = legend(target.path("legendFormat").asString(), series.path("metric"));
                    if (names.add(name)) {
                        addSeries(chart, name, series.path("values"), from);
                    }
                }
            }
            charts.add(chart);
        }
        BitmapEncoder.saveBitmap(charts, (charts.size() + 1) / 2, 2, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    private static void addSeries(XYChart chart, String name, JsonNode values, long from) {
        List<Double> xs = new ArrayList<>();
        List<Double> ys = new ArrayList<>();
        for (JsonNode point : values) {
            double y = Double.parseDouble(point.path(1).asString());
            if (Double.isFinite(y)) {
                xs.add(point.path(0).asDouble() - from);
                ys.add(y);
            }
        }
        if (!xs.isEmpty()) {
            chart.addSeries(name, xs, ys).setMarker(SeriesMarkers.NONE);
        }
    }

    private static String legend(String format, JsonNode labels) {
        Matcher matcher = LABEL.matcher(format);
        StringBuilder legend = new StringBuilder();
        while (matcher.find()) {
            matcher.appendReplacement(legend, Matcher.quoteReplacement(labels.path(matcher.group(1)).asString()));
        }
        matcher.appendTail(legend);
        return legend.toString();
    }
}

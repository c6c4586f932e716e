package dev.kvshare.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

import io.opentelemetry.sdk.trace.data.SpanData;

/**
 * Draws one trace as an SVG waterfall, the way trace viewers (Jaeger, Tempo) show it: a row per span, indented
 * under its parent, a bar from its start to its end, and the attributes of one chosen span below. For the
 * trace picture in docs/operations.md.
 */
public final class TraceWaterfall {

    private static final int ROW = 24;
    private static final int NAMES = 330;
    private static final int BARS = 640;

    private TraceWaterfall() {
    }

    public static void write(List<SpanData> trace, SpanData detailed, Path svg) throws IOException {
        long start = trace.stream().mapToLong(SpanData::getStartEpochNanos).min().orElseThrow();
        long end = trace.stream().mapToLong(SpanData::getEndEpochNanos).max().orElseThrow();
        double scale = BARS / (double) Math.max(1, end - start);
        List<String> rows = new ArrayList<>();
        List<SpanData> ordered = new ArrayList<>();
        trace.stream().filter(span -> trace.stream().noneMatch(p -> p.getSpanId().equals(span.getParentSpanId())))
                .forEach(root -> depthFirst(root, trace, ordered));
        int y = 30;
        for (SpanData span : ordered) {
            int depth = depth(span, trace);
            double x = NAMES + (span.getStartEpochNanos() - start) * scale;
            double width = Math.max(1.5, (span.getEndEpochNanos() - span.getStartEpochNanos()) * scale);
            rows.add(String.format(Locale.ROOT, "<text x='%d' y='%d'>%s</text>", 8 + 14 * depth, y + 15,
                    escape(span.getName())));
            rows.add(String.format(Locale.ROOT, "<rect x='%.1f' y='%d' width='%.1f' height='16' rx='2' fill='%s'/>",
                    x, y + 3, width, depth == 0 ? "#7a8699" : depth == 1 ? "#2f6fde" : "#4fa66b"));
            rows.add(String.format(Locale.ROOT, "<text x='%.1f' y='%d' class='ms'>%.1f ms</text>",
                    x + width + 4, y + 15,
                    (span.getEndEpochNanos() - span.getStartEpochNanos()) / 1e6));
            y += ROW;
        }
        y += 10;
        rows.add(String.format(Locale.ROOT, "<text x='8' y='%d' class='head'>%s</text>", y + 12,
                escape(detailed.getName() + " attributes")));
        y += 18;
        List<String> attributes = detailed.getAttributes().asMap().entrySet().stream()
                .map(e -> e.getKey().getKey() + " = " + e.getValue()).sorted().toList();
        for (String attribute : attributes) {
            rows.add(String.format(Locale.ROOT, "<text x='20' y='%d' class='attr'>%s</text>", y + 12, escape(attribute)));
            y += 17;
        }
        String header = String.format(Locale.ROOT, "<text x='8' y='18' class='head'>trace %s · %.1f ms</text>",
                detailed.getTraceId(), (end - start) / 1e6);
        Files.writeString(svg, String.format(Locale.ROOT, """
                <svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' font-family='DejaVu Sans, sans-serif' font-size='12'>
                <style>.ms{fill:#5b6577;font-size:11px}.head{font-weight:bold}.attr{font-family:DejaVu Sans Mono, monospace;font-size:11px}</style>
                <rect width='100%%' height='100%%' fill='white'/>
                %s
                %s
                </svg>
                """, NAMES + BARS + 80, y + 10, header, String.join("\n", rows)));
    }

    private static void depthFirst(SpanData span, List<SpanData> trace, List<SpanData> out) {
        out.add(span);
        trace.stream().filter(child -> child.getParentSpanId().equals(span.getSpanId()))
                .sorted(Comparator.comparingLong(SpanData::getStartEpochNanos))
                .forEach(child -> depthFirst(child, trace, out));
    }

    private static int depth(SpanData span, List<SpanData> trace) {
        int depth = 0;
        String parent = span.getParentSpanId();
        while (true) {
            String id = parent;
            var up = trace.stream().filter(p -> p.getSpanId().equals(id)).findFirst();
            if (up.isEmpty()) {
                return depth;
            }
            depth++;
            parent = up.get().getParentSpanId();
        }
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}

package dev.kvshare.testsupport;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.kvshare.KvshareApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** A whole application instance on a random port, with its own Spring context (its own local tier). */
public final class Instance implements AutoCloseable {

    private final ConfigurableApplicationContext context;
    private final Http http;

    private Instance(ConfigurableApplicationContext context) {
        this.context = context;
        this.http = new Http(Integer.parseInt(context.getEnvironment().getProperty("local.server.port")));
    }

    public static Instance start(Map<String, Object> properties) {
        List<String> args = new ArrayList<>();
        args.add("--server.port=0");
        properties.forEach((key, value) -> args.add("--" + key + "=" + value));
        return new Instance(new SpringApplicationBuilder(KvshareApplication.class).run(args.toArray(String[]::new)));
    }

    public Http http() {
        return http;
    }

    public <T> T bean(Class<T> type) {
        return context.getBean(type);
    }

    /** The value of a Prometheus counter or gauge line, 0 when it is absent. */
    public double metric(String name, String... labels) {
        return metrics().value(name, labels);
    }

    /** One scrape of the metrics, for values that must be read at the same moment. */
    public Scrape metrics() {
        return new Scrape(http.get("/actuator/prometheus").body());
    }

    /** The Prometheus text of one scrape. */
    public record Scrape(String text) {

        /** The value of a counter or gauge line (summed over the lines with all {@code labels}), 0 if absent. */
        public double value(String name, String... labels) {
            StringBuilder pattern = new StringBuilder("(?m)^" + Pattern.quote(name) + "\\{([^}]*)\\} (\\S+)$");
            Matcher matcher = Pattern.compile(pattern.toString()).matcher(text);
            double total = 0;
            while (matcher.find()) {
                String found = matcher.group(1);
                boolean all = true;
                for (String label : labels) {
                    all &= found.contains(label);
                }
                if (all) {
                    total += Double.parseDouble(matcher.group(2));
                }
            }
            return total;
        }
    }

    @Override
    public void close() {
        context.close();
    }
}

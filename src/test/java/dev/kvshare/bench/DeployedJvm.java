package dev.kvshare.bench;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.yaml.snakeyaml.Yaml;

/**
 * The JVM options a replica runs with when deployed by the Helm chart, read from its values: the chart's
 * {@code javaToolOptions} (heap as a share of the container's memory), and the container's memory limit as
 * {@code -XX:MaxRAM}, which the JVM would otherwise take from the whole machine's.
 */
final class DeployedJvm {

    private static final Path VALUES = Path.of("helm/kvshare/values.yaml");

    private DeployedJvm() {
    }

    @SuppressWarnings("unchecked")
    static List<String> options() throws IOException {
        Map<String, Object> values;
        try (Reader reader = Files.newBufferedReader(VALUES)) {
            values = new Yaml().load(reader);
        }
        List<String> options = new ArrayList<>(Arrays.asList(((String) values.get("javaToolOptions")).split("\\s+")));
        Map<String, Object> limits = (Map<String, Object>) ((Map<String, Object>) values.get("resources")).get("limits");
        options.add("-XX:MaxRAM=" + jvmSize((String) limits.get("memory")));
        return options;
    }

    /** A Kubernetes binary quantity ({@code 4Gi}, {@code 512Mi}) as a JVM size ({@code 4g}, {@code 512m}). */
    private static String jvmSize(String quantity) {
        if (!quantity.matches("\\d+[GM]i")) {
            throw new IllegalArgumentException("Unexpected memory limit in " + VALUES + ": " + quantity);
        }
        return quantity.replace("Gi", "g").replace("Mi", "m");
    }
}

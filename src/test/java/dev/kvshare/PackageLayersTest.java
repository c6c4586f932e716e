package dev.kvshare;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * Calls only go down (docs/architecture.md, "Calls only go down"): every main class refers only to the packages
 * its own package may use, and the packages form no cycle. Read from the sources, so a new package or a
 * reference upwards fails here before it tangles the layers. A subpackage belongs to its top-level package.
 */
class PackageLayersTest {

    private static final Path SOURCES = Path.of("src", "main", "java", "dev", "kvshare");

    /** What each package may refer to; mirrored by the picture in docs/architecture.md. */
    static final Map<String, Set<String>> MAY_USE = Map.of(
            "config", Set.of("api", "ops", "generation", "constrain", "toolcall", "promptcache", "kvevents", "model",
                    "observability"),
            "api", Set.of("generation", "constrain", "toolcall", "promptcache", "model", "observability"),
            "ops", Set.of("generation", "promptcache", "model", "observability"),
            "generation", Set.of("constrain", "toolcall", "promptcache", "model", "observability"),
            "constrain", Set.of("promptcache", "model", "observability"),
            "toolcall", Set.of("promptcache", "model", "observability"),
            "kvevents", Set.of("promptcache", "model", "observability"),
            "promptcache", Set.of("model", "observability"),
            "model", Set.of("observability"),
            "observability", Set.of());

    /** {@code dev.kvshare.<package>.} in an import, a static import or a fully-qualified name. */
    private static final Pattern REFERENCE = Pattern.compile("\\bdev\\.kvshare\\.([a-z]\\w*)\\.");
    private static final Pattern PACKAGE_LINE = Pattern.compile("(?m)^package [\\w.]+;");

    @Test
    void everyPackageHasItsPlaceInTheLayers() throws IOException {
        try (Stream<Path> entries = Files.list(SOURCES)) {
            Set<String> packages = new TreeSet<>(entries.filter(Files::isDirectory)
                    .map(path -> path.getFileName().toString()).toList());
            assertThat(packages).isEqualTo(new TreeSet<>(MAY_USE.keySet()));
        }
    }

    @Test
    void everyClassRefersOnlyToPackagesItsPackageMayUse() throws IOException {
        List<String> upward = new ArrayList<>();
        graph((file, own, used) -> {
            if (!MAY_USE.getOrDefault(own, Set.of()).contains(used)) {
                upward.add(SOURCES.relativize(file) + " → " + used);
            }
        });
        assertThat(upward).isEmpty();
    }

    @Test
    void thePackagesFormNoCycle() throws IOException {
        Map<String, Set<String>> uses = new TreeMap<>();
        graph((file, own, used) -> uses.computeIfAbsent(own, p -> new TreeSet<>()).add(used));
        assertThat(cycle(uses)).isEmpty();
        assertThat(cycle(MAY_USE)).isEmpty();
        assertThat(MAY_USE.get("observability")).as("observability is the leaf").isEmpty();
        MAY_USE.forEach((pkg, used) -> assertThat(used).as(pkg).doesNotContain("config"));
        MAY_USE.forEach((pkg, used) -> assertThat(used).as(pkg).doesNotContain(pkg.equals("config") ? "" : "ops"));
    }

    @Test
    void readsImportsStaticImportsAndQualifiedNamesButNotItsOwnPackageLine() {
        String source = """
                package dev.kvshare.observability.generation;

                import static dev.kvshare.model.Logits.NONE;
                import dev.kvshare.promptcache.PromptCache;

                /** See {@link dev.kvshare.api.Reply}. */
                class Example { dev.kvshare.generation.Generation generation; }
                """;
        assertThat(references(source)).containsExactlyInAnyOrder("model", "promptcache", "api", "generation");
    }

    @Test
    void findsACycle() {
        Map<String, Set<String>> tangled = Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a"), "d",
                Set.of("a"));
        assertThat(cycle(tangled)).hasValueSatisfying(path -> assertThat(path).startsWith("a").contains("b", "c"));
        assertThat(cycle(Map.of("a", Set.of("b"), "b", Set.of()))).isEmpty();
    }

    private interface Reference {
        void to(Path file, String own, String used);
    }

    /** Each reference of a main class to another kvshare package. */
    private static void graph(Reference reference) throws IOException {
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path file : files.filter(path -> path.toString().endsWith(".java")).toList()) {
                Path relative = SOURCES.relativize(file);
                String own = relative.getNameCount() == 1 ? "" : relative.getName(0).toString();
                if (own.isEmpty()) {
                    continue; // KvshareApplication: the entry point, above every package
                }
                for (String used : references(Files.readString(file))) {
                    if (!used.equals(own)) {
                        reference.to(file, own, used);
                    }
                }
            }
        }
    }

    static Set<String> references(String source) {
        Set<String> packages = new TreeSet<>();
        Matcher matcher = REFERENCE.matcher(PACKAGE_LINE.matcher(source).replaceFirst(""));
        while (matcher.find()) {
            packages.add(matcher.group(1));
        }
        return packages;
    }

    /** A cycle of {@code uses}, as the packages along it (the first repeated at the end); empty if none. */
    static Optional<List<String>> cycle(Map<String, Set<String>> uses) {
        Set<String> done = new TreeSet<>();
        for (String start : new TreeSet<>(uses.keySet())) {
            Optional<List<String>> found = cycleFrom(start, uses, new ArrayList<>(), done);
            if (found.isPresent()) {
                return found;
            }
        }
        return Optional.empty();
    }

    private static Optional<List<String>> cycleFrom(String pkg, Map<String, Set<String>> uses, List<String> path,
                                                    Set<String> done) {
        int seen = path.indexOf(pkg);
        if (seen >= 0) {
            List<String> cycle = new ArrayList<>(path.subList(seen, path.size()));
            cycle.add(pkg);
            return Optional.of(cycle);
        }
        if (done.contains(pkg)) {
            return Optional.empty();
        }
        path.add(pkg);
        for (String used : new TreeSet<>(uses.getOrDefault(pkg, Set.of()))) {
            Optional<List<String>> found = cycleFrom(used, uses, path, done);
            if (found.isPresent()) {
                return found;
            }
        }
        path.remove(path.size() - 1);
        done.add(pkg);
        return Optional.empty();
    }
}

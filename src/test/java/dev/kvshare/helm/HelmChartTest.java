package dev.kvshare.helm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.InstallCommand;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.convert.DurationStyle;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The Helm chart in {@code helm/kvshare}, linted and rendered by real Helm (helm-java embeds it), for the
 * default values and for the GPU + Redis example ({@code src/test/resources/helm/gpu-redis-values.yaml},
 * shipped as {@code helm/kvshare/examples/gpu-redis-values.yaml}).
 */
class HelmChartTest {

    private static final Path CHART = Path.of("helm", "kvshare");
    private static final Path GPU_REDIS_VALUES = Path.of("src", "test", "resources", "helm", "gpu-redis-values.yaml");
    private static final String RELEASE = "kvshare";
    private static final String NAMESPACE = "support";
    /** The plaintext credentials of the GPU + Redis example values. */
    private static final String HMAC_KEY = "change-me-to-32-random-bytes";
    private static final String REDIS_PASSWORD = "change-me-too";
    /** AES-256 keys in the forms kvshare.prompt-cache.encryption-key accepts: 64 hex digits and base64. */
    private static final String ENCRYPTION_KEY = "5f".repeat(16) + "a3".repeat(16);
    private static final String OLD_KEY_HEX = "0c".repeat(32);
    private static final String OLD_KEY_BASE64 = "q83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4k=";

    // ---- lint ----------------------------------------------------------------------------------------

    @Test
    void lintPassesWithDefaultValues() {
        LintResult result = new Helm(CHART).lint().strict().call();
        assertThat(result.isFailed()).as("helm lint --strict: %s", result.getMessages()).isFalse();
    }

    @Test
    void lintPassesWithGpuRedisValues(@TempDir Path tmp) throws IOException {
        // helm-java's lint takes no values file: lint a copy whose values.yaml is the defaults merged with them.
        LintResult result = lintWith(tmp, loadYaml(GPU_REDIS_VALUES));
        assertThat(result.isFailed()).as("helm lint --strict: %s", result.getMessages()).isFalse();
    }

    @Test
    void exampleValuesAreTheTestedValues() throws IOException {
        assertThat(Files.readString(CHART.resolve("examples/gpu-redis-values.yaml")))
                .isEqualTo(Files.readString(GPU_REDIS_VALUES));
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu-redis-values.yaml", "gpu-redis-values.yaml", "inference-pool-values.yaml"})
    void everyShippedExampleLintsAndRenders(String example, @TempDir Path tmp) throws IOException {
        Path values = CHART.resolve("examples").resolve(example);
        LintResult result = lintWith(tmp, loadYaml(values));
        assertThat(result.isFailed()).as("helm lint --strict: %s", result.getMessages()).isFalse();
        Manifests m = new Manifests(template().withValuesFile(values).call());
        assertThat(path(m.applicationConfig(), "kvshare.prompt-cache.redis.enabled")).isEqualTo(true);
        // The trial examples bring their Redis along; the production one points at its own.
        assertThat(m.ofKind("Deployment")).hasSize(example.startsWith("inference-pool") ? 1 : 2);
    }

    // ---- values schema ---------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"replicaCount=-1", "replicaCount=two", "ports.management=0", "gpu.device=tpu",
            "redis.inChart.maxmemoryPolicy=sometimes", "shutdown.timeoutSeconds=0", "promptCache.redisTtl=forever",
            "promptCache.encryptionKey=too-short", "limits.slowClientTimeout=0s", "limits.maxRunningPerClient=-1",
            "limits.maxNeighbourSlowdown=0.5", "unknownKey=1"})
    void schemaRejectsBadValuesInTemplate(String assignment) {
        String[] kv = assignment.split("=", 2);
        assertThatThrownBy(() -> template().set(kv[0], kv[1]).call())
                .hasMessageContaining("schema");
    }

    @Test
    void schemaRejectsBadValuesInLint(@TempDir Path tmp) throws IOException {
        assertThat(lintWith(tmp.resolve("negative"), Map.of("replicaCount", -1)).isFailed()).isTrue();
        assertThat(lintWith(tmp.resolve("string"), Map.of("replicaCount", "two")).isFailed()).isTrue();
    }

    // ---- probes, ports, Service ------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void probesUseTheActuatorGroupsOnTheManagementPort(boolean gpuRedis) {
        Manifests m = render(gpuRedis);
        Map<String, Object> container = m.container();
        Map<String, Object> config = m.applicationConfig();

        assertThat(path(container, "startupProbe.httpGet.path")).isEqualTo("/actuator/health/liveness");
        assertThat(path(container, "livenessProbe.httpGet.path")).isEqualTo("/actuator/health/liveness");
        assertThat(path(container, "readinessProbe.httpGet.path")).isEqualTo("/actuator/health/readiness");
        for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
            assertThat(path(container, probe + ".httpGet.port")).as(probe).isEqualTo("management");
        }
        int managementPort = containerPort(container, "management");
        int httpPort = containerPort(container, "http");
        assertThat(path(config, "management.server.port")).isEqualTo(managementPort);
        assertThat(path(config, "server.port")).isEqualTo(httpPort);
        assertThat(managementPort).isNotEqualTo(httpPort);
        // The admin endpoint is exposed, and with a separate management server only there.
        assertThat((String) path(config, "management.endpoints.web.exposure.include")).contains("promptcache");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void theServicePublishesTheApiPortOnly(boolean gpuRedis) {
        Manifests m = render(gpuRedis);
        Map<String, Object> service = m.one("Service", fullname());
        int managementPort = containerPort(m.container(), "management");
        List<Map<String, Object>> ports = list(path(service, "spec.ports"));
        assertThat(ports).hasSize(1);
        assertThat(ports.get(0)).containsEntry("targetPort", "http");
        assertThat(ports).allSatisfy(port -> {
            assertThat(port.get("port")).isNotEqualTo(managementPort);
            assertThat(port.get("targetPort")).isNotIn("management", managementPort);
        });
        assertThat(m.text()).doesNotContain("type: LoadBalancer");
    }

    // ---- configuration ---------------------------------------------------------------------------------

    @Test
    void defaultsRunTheBundledModelWithoutRedis() {
        Manifests m = render(false);
        Map<String, Object> config = m.applicationConfig();
        assertThat(path(config, "kvshare.model.path")).isNull();
        assertThat(path(config, "kvshare.model.device")).isEqualTo("auto");
        assertThat(path(config, "kvshare.prompt-cache.redis.enabled")).isEqualTo(false);
        assertThat(path(config, "spring.data")).isNull();
        assertThat(m.ofKind("Secret")).isEmpty();
        assertThat(env(m.container())).extracting(e -> e.get("name"))
                .doesNotContain("KVSHARE_PROMPTCACHE_HMACKEY", "SPRING_DATA_REDIS_PASSWORD");
        assertThat(env(m.container(), "SPRING_CONFIG_ADDITIONAL_LOCATION").get("value"))
                .isEqualTo("file:/config/application.yml");
        assertThat(mountPaths(m.container())).contains("/config/application.yml");
    }

    @Test
    void redisAndModelPathReachTheContainerConfiguration() {
        Manifests m = render(true);
        Map<String, Object> config = m.applicationConfig();
        Map<String, Object> container = m.container();

        // The in-chart Redis: its Service's name and port are what the service connects to.
        Map<String, Object> redisService = m.one("Service", fullname() + "-redis");
        assertThat(path(config, "spring.data.redis.host")).isEqualTo(fullname() + "-redis");
        assertThat(path(config, "spring.data.redis.port")).isEqualTo(list(path(redisService, "spec.ports")).get(0).get("port"));
        assertThat(path(config, "kvshare.prompt-cache.redis.enabled")).isEqualTo(true);
        assertThat(path(config, "kvshare.prompt-cache.redis.ttl")).isEqualTo("6h");
        Map<String, Object> redisContainer = list(path(m.one("Deployment", fullname() + "-redis"),
                "spec.template.spec.containers")).get(0);
        assertThat(redisContainer.get("image")).isEqualTo("redis:7");
        assertThat(String.join(" ", strings(redisContainer.get("args"))))
                .contains("--maxmemory 2gb", "--maxmemory-policy allkeys-lru");

        // The model volume's mount path is kvshare.model.path.
        String modelPath = (String) path(config, "kvshare.model.path");
        assertThat(modelPath).isEqualTo("/models/qwen2.5-0.5b-instruct");
        Map<String, Object> mount = list(container.get("volumeMounts")).stream()
                .filter(v -> modelPath.equals(v.get("mountPath"))).findFirst().orElseThrow();
        Map<String, Object> volume = list(path(m.deployment(), "spec.template.spec.volumes")).stream()
                .filter(v -> v.get("name").equals(mount.get("name"))).findFirst().orElseThrow();
        assertThat(path(volume, "persistentVolumeClaim.claimName")).isEqualTo("kvshare-models");
        assertThat(mount.get("subPath")).isEqualTo("qwen2.5-0.5b-instruct");

        // The rendered file is what the container loads.
        assertThat(env(container, "SPRING_CONFIG_ADDITIONAL_LOCATION").get("value"))
                .isEqualTo("file:/config/application.yml");
        assertThat(mountPaths(container)).contains("/config/application.yml");
    }

    @Test
    void perClientLimitsReachTheConfiguration() {
        assertThat(path(render(false).applicationConfig(), "kvshare.limits"))
                .isEqualTo(Map.of("slow-client-timeout", "10s", "max-running-per-client", 0,
                        "max-queued-per-client", 0, "max-neighbour-slowdown", 1.2, "request-read-timeout", "30s"));
        Map<String, Object> config = new Manifests(template()
                .set("limits.slowClientTimeout", "3s")
                .set("limits.maxRunningPerClient", "2")
                .set("limits.maxQueuedPerClient", "5")
                .set("limits.maxNeighbourSlowdown", "2")
                .set("limits.requestReadTimeout", "15s")
                .call()).applicationConfig();
        assertThat(path(config, "kvshare.limits"))
                .isEqualTo(Map.of("slow-client-timeout", "3s", "max-running-per-client", 2,
                        "max-queued-per-client", 5, "max-neighbour-slowdown", 2, "request-read-timeout", "15s"));
    }

    @Test
    void anExternalRedisAddressReachesTheConfiguration() {
        Manifests m = new Manifests(template()
                .set("redis.host", "redis.cache.svc.example")
                .set("redis.port", "6380")
                .set("redis.existingSecret", "redis-auth")
                .call());
        Map<String, Object> config = m.applicationConfig();
        assertThat(path(config, "spring.data.redis.host")).isEqualTo("redis.cache.svc.example");
        assertThat(path(config, "spring.data.redis.port")).isEqualTo(6380);
        assertThat(path(config, "kvshare.prompt-cache.redis.enabled")).isEqualTo(true);
        assertThat(path(env(m.container(), "SPRING_DATA_REDIS_PASSWORD"), "valueFrom.secretKeyRef"))
                .isEqualTo(Map.of("name", "redis-auth", "key", "redis-password"));
        assertThat(m.ofKind("Deployment")).hasSize(1);
        // Egress to that Redis port is allowed.
        assertThat(m.text()).contains("port: 6380");
    }

    @Test
    void aModelImageIsCopiedByAnInitContainer() {
        Manifests m = new Manifests(template()
                .set("model.image.repository", "registry.example.com/models/qwen2.5-0.5b")
                .set("model.image.tag", "1")
                .call());
        Map<String, Object> init = list(path(m.deployment(), "spec.template.spec.initContainers")).get(0);
        assertThat(init.get("image")).isEqualTo("registry.example.com/models/qwen2.5-0.5b:1");
        assertThat(path(m.applicationConfig(), "kvshare.model.path")).isEqualTo("/models/model");
        assertThat(mountPaths(m.container())).contains("/models/model");
    }

    // ---- GPU -------------------------------------------------------------------------------------------

    @Test
    void theGpuAppearsOnlyWithGpuValues() {
        Manifests cpu = render(false);
        assertThat(cpu.text()).doesNotContain("nvidia.com/gpu");
        assertThat(path(cpu.applicationConfig(), "kvshare.model.device")).isEqualTo("auto");

        Manifests gpu = render(true);
        assertThat(path(gpu.container(), "resources.limits")).isInstanceOf(Map.class);
        assertThat(((Map<?, ?>) path(gpu.container(), "resources.limits")).get("nvidia.com/gpu")).isEqualTo(1);
        assertThat(path(gpu.deployment(), "spec.template.spec.nodeSelector"))
                .isEqualTo(Map.of("nvidia.com/gpu.present", "true"));
        assertThat(list(path(gpu.deployment(), "spec.template.spec.tolerations")))
                .anySatisfy(t -> assertThat(t).containsEntry("key", "nvidia.com/gpu"));
        assertThat(path(gpu.applicationConfig(), "kvshare.model.device")).isEqualTo("cuda");
        assertThat((String) gpu.container().get("image")).endsWith("-gpu");
    }

    // ---- credentials -----------------------------------------------------------------------------------

    @Test
    void credentialsAreReferencedThroughSecretKeyRefsOnly() {
        Manifests m = render(true);
        Map<String, Object> container = m.container();
        String secretName = fullname();

        assertThat(path(env(container, "KVSHARE_PROMPTCACHE_HMACKEY"), "valueFrom.secretKeyRef"))
                .isEqualTo(Map.of("name", secretName, "key", "hmac-key"));
        assertThat(path(env(container, "SPRING_DATA_REDIS_PASSWORD"), "valueFrom.secretKeyRef"))
                .isEqualTo(Map.of("name", secretName, "key", "redis-password"));
        Map<String, Object> secret = m.one("Secret", secretName);
        assertThat(map(secret.get("data"))).containsOnlyKeys("hmac-key", "redis-password");

        // Nowhere in plain text: not in the ConfigMap, not in any env value, not anywhere in the manifests.
        String configMap = m.one("ConfigMap", fullname()).get("data").toString();
        for (String credential : List.of(HMAC_KEY, REDIS_PASSWORD)) {
            assertThat(configMap).doesNotContain(credential);
            assertThat(m.text()).doesNotContain(credential);
            for (Map<String, Object> deployment : m.ofKind("Deployment")) {
                for (Map<String, Object> c : list(path(deployment, "spec.template.spec.containers"))) {
                    assertThat(env(c)).allSatisfy(e -> assertThat(String.valueOf(e.get("value"))).doesNotContain(credential));
                }
            }
        }
        assertThat(configMap).doesNotContainIgnoringCase("hmac-key").doesNotContainIgnoringCase("password");
        // The trial Redis takes its password from the same Secret.
        Map<String, Object> redisContainer = list(path(m.one("Deployment", fullname() + "-redis"),
                "spec.template.spec.containers")).get(0);
        assertThat(path(env(redisContainer, "REDIS_PASSWORD"), "valueFrom.secretKeyRef"))
                .isEqualTo(Map.of("name", secretName, "key", "redis-password"));
    }

    @Test
    void withRedisAndNoKeyGivenTheChartGeneratesOneAndTheServiceRequiresIt() {
        Manifests m = new Manifests(template().set("redis.host", "redis.internal").call());

        Map<String, Object> secret = m.one("Secret", fullname());
        String key = new String(java.util.Base64.getDecoder().decode((String) map(secret.get("data")).get("hmac-key")),
                java.nio.charset.StandardCharsets.UTF_8);
        assertThat(key).hasSize(48).isAlphanumeric();
        assertThat(path(env(m.container(), "KVSHARE_PROMPTCACHE_HMACKEY"), "valueFrom.secretKeyRef"))
                .isEqualTo(Map.of("name", fullname(), "key", "hmac-key"));
        assertThat(path(m.applicationConfig(), "kvshare.prompt-cache.require-hmac")).isEqualTo(true);
    }

    @Test
    void aGeneratedKeyDoesNotRollThePodsOnEveryRender() {
        Manifests first = new Manifests(template().set("redis.host", "redis.internal").call());
        Manifests second = new Manifests(template().set("redis.host", "redis.internal").call());
        // Without a cluster (helm template, Argo CD) there is nothing to look up: each render draws a new key ...
        assertThat(path(first.one("Secret", fullname()), "data.hmac-key"))
                .isNotEqualTo(path(second.one("Secret", fullname()), "data.hmac-key"));
        // ... but the pods' checksum covers the credentials given, so only a real change rolls them.
        String checksum = "spec.template.metadata.annotations.checksum/secret";
        assertThat(path(first.deployment(), checksum)).isEqualTo(path(second.deployment(), checksum));
        Manifests rotated = new Manifests(template().set("redis.host", "redis.internal")
                .set("promptCache.existingSecret", "kvshare-hmac-v2").call());
        assertThat(path(rotated.deployment(), checksum)).isNotEqualTo(path(first.deployment(), checksum));
    }

    @Test
    void existingSecretsAreReferencedAndNotRendered() {
        Manifests m = new Manifests(template()
                .set("redis.host", "redis.internal")
                .set("redis.existingSecret", "redis-auth")
                .set("redis.existingSecretPasswordKey", "password")
                .set("promptCache.existingSecret", "kvshare-hmac")
                .set("promptCache.existingSecretKey", "key")
                .call());
        assertThat(path(env(m.container(), "KVSHARE_PROMPTCACHE_HMACKEY"), "valueFrom.secretKeyRef"))
                .isEqualTo(Map.of("name", "kvshare-hmac", "key", "key"));
        assertThat(path(env(m.container(), "SPRING_DATA_REDIS_PASSWORD"), "valueFrom.secretKeyRef"))
                .isEqualTo(Map.of("name", "redis-auth", "key", "password"));
        assertThat(m.ofKind("Secret")).isEmpty();
    }

    // ---- encryption at rest ------------------------------------------------------------------------------

    @Test
    void anEncryptionKeyFromValuesReachesThePodThroughTheSecretOnly() {
        Manifests m = new Manifests(template()
                .set("redis.host", "redis.internal")
                .set("promptCache.encryptionKey", ENCRYPTION_KEY)
                .set("promptCache.decryptionKeys[0]", OLD_KEY_HEX)
                .set("promptCache.decryptionKeys[1]", OLD_KEY_BASE64)
                .call());

        Map<String, Object> data = map(m.one("Secret", fullname()).get("data"));
        // GCM authenticates the frames: no HMAC key is generated or passed beside an encryption key.
        assertThat(data).containsOnlyKeys("encryption-key", "decryption-keys");
        assertThat(decode(data.get("encryption-key"))).isEqualTo(ENCRYPTION_KEY);
        // Comma-separated: relaxed binding splits KVSHARE_PROMPTCACHE_DECRYPTIONKEYS into the list.
        assertThat(decode(data.get("decryption-keys"))).isEqualTo(OLD_KEY_HEX + "," + OLD_KEY_BASE64);
        Map<String, Object> container = m.container();
        assertThat(path(env(container, "KVSHARE_PROMPTCACHE_ENCRYPTIONKEY"), "valueFrom.secretKeyRef"))
                .isEqualTo(Map.of("name", fullname(), "key", "encryption-key"));
        assertThat(path(env(container, "KVSHARE_PROMPTCACHE_DECRYPTIONKEYS"), "valueFrom.secretKeyRef"))
                .isEqualTo(Map.of("name", fullname(), "key", "decryption-keys"));
        assertThat(env(container)).noneSatisfy(e -> assertThat(e.get("name")).isEqualTo("KVSHARE_PROMPTCACHE_HMACKEY"));
        // An encryption key satisfies require-hmac: the service still refuses unprotected frames.
        assertThat(path(m.applicationConfig(), "kvshare.prompt-cache.require-hmac")).isEqualTo(true);

        String configMap = m.one("ConfigMap", fullname()).toString();
        assertThat(configMap).doesNotContainIgnoringCase("encryption").doesNotContainIgnoringCase("decryption");
        for (String key : List.of(ENCRYPTION_KEY, OLD_KEY_HEX, OLD_KEY_BASE64)) {
            assertThat(m.text()).doesNotContain(key);
        }
    }

    @Test
    void encryptAtRestGeneratesA32ByteKeyThatDoesNotRollThePods() {
        Manifests first = new Manifests(template().set("redis.host", "redis.internal")
                .set("promptCache.encryptAtRest", "true").call());
        Manifests second = new Manifests(template().set("redis.host", "redis.internal")
                .set("promptCache.encryptAtRest", "true").call());

        String generated = decode(path(first.one("Secret", fullname()), "data.encryption-key"));
        assertThat(java.util.Base64.getDecoder().decode(generated)).hasSize(32);
        assertThat(map(first.one("Secret", fullname()).get("data"))).containsOnlyKeys("encryption-key");
        assertThat(path(env(first.container(), "KVSHARE_PROMPTCACHE_ENCRYPTIONKEY"), "valueFrom.secretKeyRef"))
                .isEqualTo(Map.of("name", fullname(), "key", "encryption-key"));
        assertThat(env(first.container())).noneSatisfy(e -> assertThat(e.get("name"))
                .isIn("KVSHARE_PROMPTCACHE_HMACKEY", "KVSHARE_PROMPTCACHE_DECRYPTIONKEYS"));
        // A new key per render without a cluster to look up (hence existingSecret for GitOps), the same checksum.
        assertThat(decode(path(second.one("Secret", fullname()), "data.encryption-key"))).isNotEqualTo(generated);
        String checksum = "spec.template.metadata.annotations.checksum/secret";
        assertThat(path(first.deployment(), checksum)).isEqualTo(path(second.deployment(), checksum));
        Manifests rotated = new Manifests(template().set("redis.host", "redis.internal")
                .set("promptCache.encryptAtRest", "true").set("promptCache.decryptionKeys[0]", OLD_KEY_HEX).call());
        assertThat(path(rotated.deployment(), checksum)).isNotEqualTo(path(first.deployment(), checksum));
    }

    @Test
    void anExistingSecretsEncryptionKeysAreReferencedByTheirNames() {
        Manifests m = new Manifests(template()
                .set("redis.host", "redis.internal")
                .set("promptCache.encryptAtRest", "true")
                .set("promptCache.existingSecret", "kvshare-keys")
                .set("promptCache.existingSecretKeys.encryptionKey", "aes-current")
                .set("promptCache.existingSecretKeys.decryptionKeys", "aes-previous")
                .call());
        assertThat(path(env(m.container(), "KVSHARE_PROMPTCACHE_ENCRYPTIONKEY"), "valueFrom.secretKeyRef"))
                .isEqualTo(Map.of("name", "kvshare-keys", "key", "aes-current"));
        // Optional: a rotation adds and removes it by editing the Secret alone.
        assertThat(path(env(m.container(), "KVSHARE_PROMPTCACHE_DECRYPTIONKEYS"), "valueFrom.secretKeyRef"))
                .isEqualTo(Map.of("name", "kvshare-keys", "key", "aes-previous", "optional", true));
        assertThat(env(m.container())).noneSatisfy(e -> assertThat(e.get("name")).isEqualTo("KVSHARE_PROMPTCACHE_HMACKEY"));
        assertThat(m.ofKind("Secret")).isEmpty();
    }

    @Test
    void theNotesSayWhichKeyTheChartGenerated() {
        assertThat(notes(Map.of("redis.host", "redis.internal", "promptCache.encryptAtRest", "true")))
                .contains("encrypts its Redis frames with a random AES-256 key").doesNotContain("HMAC");
        assertThat(notes(Map.of("redis.host", "redis.internal")))
                .contains("signs its Redis frames with a random HMAC key");
        assertThat(notes(Map.of("redis.host", "redis.internal", "promptCache.encryptionKey", ENCRYPTION_KEY)))
                .doesNotContain("random");
    }

    @Test
    void decryptionKeysThatWouldBeIgnoredFailTheRender() {
        assertThatThrownBy(() -> template().set("redis.host", "redis.internal")
                .set("promptCache.decryptionKeys[0]", OLD_KEY_HEX).call())
                .hasMessageContaining("promptCache.decryptionKeys needs promptCache.encryptAtRest");
        assertThatThrownBy(() -> template().set("promptCache.encryptAtRest", "true")
                .set("promptCache.existingSecret", "kvshare-keys")
                .set("promptCache.decryptionKeys[0]", OLD_KEY_HEX).call())
                .hasMessageContaining("promptCache.existingSecretKeys.decryptionKeys");
    }

    @Test
    void tenantApiKeysGoToASecretFileNotTheConfigMap() {
        Manifests m = new Manifests(template().set("promptCache.tenants.sk-acme-123", "acme").call());
        assertThat(m.one("ConfigMap", fullname()).toString()).doesNotContain("sk-acme-123");
        assertThat(m.text()).doesNotContain("sk-acme-123");
        Map<String, Object> secret = m.one("Secret", fullname() + "-tenants");
        String file = new String(java.util.Base64.getDecoder().decode((String) path(secret, "data.tenants.yml")),
                StandardCharsets.UTF_8);
        assertThat(path(new Yaml().load(file), "kvshare.prompt-cache.tenants")).isEqualTo(Map.of("[sk-acme-123]", "acme"));
        assertThat((String) env(m.container(), "SPRING_CONFIG_ADDITIONAL_LOCATION").get("value"))
                .contains("file:/config/tenants/tenants.yml");
        assertThat(mountPaths(m.container())).contains("/config/tenants");
    }

    // ---- labels ------------------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void everyObjectCarriesTheRecommendedLabels(boolean gpuRedis) {
        Manifests m = render(gpuRedis);
        assertThat(m.documents()).isNotEmpty().allSatisfy(doc -> {
            Map<String, Object> labels = map(path(doc, "metadata.labels"));
            assertThat(labels).as("%s %s", doc.get("kind"), path(doc, "metadata.name"))
                    .containsEntry("app.kubernetes.io/name", "kvshare")
                    .containsEntry("app.kubernetes.io/instance", RELEASE)
                    .containsEntry("app.kubernetes.io/managed-by", "Helm")
                    .containsKeys("app.kubernetes.io/version", "app.kubernetes.io/component", "helm.sh/chart");
            assertThat(path(doc, "metadata.namespace")).isEqualTo(NAMESPACE);
        });
        Map<String, Object> deployment = m.deployment();
        Map<String, Object> podLabels = map(path(deployment, "spec.template.metadata.labels"));
        Map<String, Object> selector = map(path(deployment, "spec.selector.matchLabels"));
        assertThat(podLabels).containsAllEntriesOf(selector);
        assertThat(selector).containsOnlyKeys("app.kubernetes.io/name", "app.kubernetes.io/instance",
                "app.kubernetes.io/component");
        assertThat(map(path(m.one("Service", fullname()), "spec.selector"))).isEqualTo(selector);
        assertThat(map(path(m.one("PodDisruptionBudget", fullname()), "spec.selector.matchLabels"))).isEqualTo(selector);
    }

    // ---- shutdown ----------------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void terminationGraceExceedsTheShutdownPhase(boolean gpuRedis) {
        Manifests m = render(gpuRedis);
        Map<String, Object> config = m.applicationConfig();
        assertThat(path(config, "server.shutdown")).isEqualTo("graceful");
        Duration phase = DurationStyle.detectAndParse((String) path(config, "spring.lifecycle.timeout-per-shutdown-phase"));
        int preStopSleep = Integer.parseInt(strings(path(m.container(), "lifecycle.preStop.exec.command")).get(1));
        int grace = (Integer) path(m.deployment(), "spec.template.spec.terminationGracePeriodSeconds");
        assertThat(preStopSleep).isPositive();
        assertThat(phase).isGreaterThanOrEqualTo(Duration.ofSeconds(gpuRedis ? 180 : 120));
        assertThat(Duration.ofSeconds(grace)).isGreaterThan(phase.plusSeconds(preStopSleep));
    }

    // ---- scaling, metrics, network -----------------------------------------------------------------------

    @Test
    void autoscalingOnQueueDepthNotCpu() {
        Manifests cpu = render(false);
        assertThat(cpu.ofKind("HorizontalPodAutoscaler")).isEmpty();
        assertThat(path(cpu.deployment(), "spec.replicas")).isEqualTo(2);

        Manifests m = render(true);
        Map<String, Object> hpa = m.one("HorizontalPodAutoscaler", fullname());
        assertThat(path(hpa, "spec.scaleTargetRef.name")).isEqualTo(fullname());
        List<Map<String, Object>> metrics = list(path(hpa, "spec.metrics"));
        assertThat(metrics).singleElement().satisfies(metric -> {
            assertThat(metric.get("type")).isEqualTo("Pods");
            assertThat(path(metric, "pods.metric.name")).isEqualTo("kvshare_requests_waiting");
            assertThat(path(metric, "pods.target.averageValue")).isEqualTo("2");
        });
        // The HPA owns the replica count.
        assertThat(map(path(m.deployment(), "spec"))).doesNotContainKey("replicas");

        // CPU only when asked for; no signal at all is refused.
        Manifests withCpu = new Manifests(template().withValuesFile(GPU_REDIS_VALUES)
                .set("autoscaling.targetCPUUtilizationPercentage", "70").call());
        assertThat(list(path(withCpu.one("HorizontalPodAutoscaler", fullname()), "spec.metrics")))
                .anySatisfy(metric -> assertThat(path(metric, "resource.name")).isEqualTo("cpu"));
        assertThatThrownBy(() -> template().withValuesFile(GPU_REDIS_VALUES)
                .set("autoscaling.requestsWaiting.enabled", "false").call()).hasMessageContaining("needs a signal");
    }

    @Test
    void kedaScalesOnTheWaitingGaugeInPrometheusInsteadOfAnHpa() {
        Manifests m = new Manifests(template().withValuesFile(GPU_REDIS_VALUES)
                .set("autoscaling.keda.enabled", "true")
                .set("autoscaling.keda.serverAddress", "http://prometheus-operated.monitoring.svc:9090").call());
        assertThat(m.ofKind("HorizontalPodAutoscaler")).isEmpty();
        Map<String, Object> scaled = m.one("ScaledObject", fullname());
        assertThat(path(scaled, "apiVersion")).isEqualTo("keda.sh/v1alpha1");
        assertThat(path(scaled, "spec.scaleTargetRef.name")).isEqualTo(fullname());
        assertThat(path(scaled, "spec.minReplicaCount")).isEqualTo(2);
        assertThat(path(scaled, "spec.maxReplicaCount")).isEqualTo(6);
        Map<String, Object> trigger = list(path(scaled, "spec.triggers")).get(0);
        assertThat(trigger).containsEntry("type", "prometheus").containsEntry("metricType", "AverageValue");
        assertThat(path(trigger, "metadata.query")).isEqualTo("sum(vllm:num_requests_waiting{namespace=\"support\", "
                + "pod=~\"kvshare-[a-z0-9]+-[a-z0-9]+\"})");
        assertThat(path(trigger, "metadata.threshold")).isEqualTo("2");
        assertThat(path(trigger, "metadata.serverAddress")).isEqualTo("http://prometheus-operated.monitoring.svc:9090");
        assertThat(map(path(m.deployment(), "spec"))).doesNotContainKey("replicas");

        assertThatThrownBy(() -> template().withValuesFile(GPU_REDIS_VALUES).set("autoscaling.keda.enabled", "true")
                .call()).hasMessageContaining("serverAddress");
    }

    @Test
    void replicasSpreadOverNodesAndZonesByDefault() {
        Map<String, Object> selector = Map.of("matchLabels", Map.of("app.kubernetes.io/name", "kvshare",
                "app.kubernetes.io/instance", RELEASE, "app.kubernetes.io/component", "server"));
        Map<String, Object> pod = map(path(render(false).deployment(), "spec.template.spec"));
        Map<String, Object> preferred = list(path(pod, "affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution")).get(0);
        assertThat(path(preferred, "podAffinityTerm.topologyKey")).isEqualTo("kubernetes.io/hostname");
        assertThat(path(preferred, "podAffinityTerm.labelSelector")).isEqualTo(selector);
        assertThat(list(pod.get("topologySpreadConstraints"))).containsExactly(Map.of("maxSkew", 1,
                "topologyKey", "topology.kubernetes.io/zone", "whenUnsatisfiable", "ScheduleAnyway",
                "labelSelector", selector));

        Map<String, Object> hard = map(path(new Manifests(template().set("spread.podAntiAffinity", "hard").call())
                .deployment(), "spec.template.spec"));
        assertThat(path(list(path(hard, "affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution"))
                .get(0), "topologyKey")).isEqualTo("kubernetes.io/hostname");

        // Given ones replace the defaults; none leaves them out.
        Map<String, Object> own = map(path(new Manifests(template()
                .set("affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight", "1")
                .set("affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey", "rack")
                .set("topologySpreadConstraints[0].maxSkew", "2")
                .set("topologySpreadConstraints[0].topologyKey", "rack")
                .set("topologySpreadConstraints[0].whenUnsatisfiable", "DoNotSchedule").call()).deployment(),
                "spec.template.spec"));
        assertThat(path(list(path(own, "affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution"))
                .get(0), "podAffinityTerm.topologyKey")).isEqualTo("rack");
        assertThat(list(own.get("topologySpreadConstraints"))).singleElement()
                .satisfies(c -> assertThat(c).containsEntry("topologyKey", "rack"));
        Map<String, Object> none = map(path(new Manifests(template().set("spread.podAntiAffinity", "none")
                .set("spread.topologyKeys", "null").call()).deployment(), "spec.template.spec"));
        assertThat(none).doesNotContainKeys("affinity", "topologySpreadConstraints");
    }

    @Test
    void ephemeralStorageIsRequested() {
        assertThat(path(render(false).container(), "resources.requests.ephemeral-storage")).isEqualTo("5Gi");
    }

    @Test
    void prometheusScrapesTheManagementPort() {
        Manifests m = new Manifests(template().set("metrics.serviceMonitor.enabled", "true").call());
        Map<String, Object> annotations = map(path(m.deployment(), "spec.template.metadata.annotations"));
        assertThat(annotations).containsEntry("prometheus.io/scrape", "true")
                .containsEntry("prometheus.io/port", "9090")
                .containsEntry("prometheus.io/path", "/actuator/prometheus");
        Map<String, Object> endpoint = list(path(m.one("ServiceMonitor", fullname()), "spec.endpoints")).get(0);
        assertThat(endpoint).containsEntry("port", "management").containsEntry("path", "/actuator/prometheus");
        // Scraped through a separate headless Service, never through the API Service.
        Map<String, Object> metricsService = m.one("Service", fullname() + "-metrics");
        assertThat(path(metricsService, "spec.clusterIP")).isEqualTo("None");
        assertThat(list(path(m.one("Service", fullname()), "spec.ports")))
                .noneSatisfy(p -> assertThat(p.get("targetPort")).isEqualTo("management"));
    }

    @Test
    void theConsoleIsOffUnlessEnabled() {
        assertThat(path(new Manifests(template().call()).applicationConfig(), "kvshare.console.enabled"))
                .isEqualTo(false);
        assertThat(path(new Manifests(template().set("console.enabled", "true").call()).applicationConfig(),
                "kvshare.console.enabled")).isEqualTo(true);
    }

    @Test
    void theGrafanaDashboardIsAConfigMapForTheSidecarWhenEnabled() throws IOException {
        String dashboard = fullname() + "-dashboard";
        assertThat(new Manifests(template().call()).ofKind("ConfigMap"))
                .noneSatisfy(c -> assertThat(path(c, "metadata.name")).isEqualTo(dashboard));
        Manifests m = new Manifests(template().set("metrics.grafanaDashboard.enabled", "true")
                .set("metrics.grafanaDashboard.namespace", "monitoring").call());
        Map<String, Object> configMap = m.one("ConfigMap", dashboard);
        assertThat(map(path(configMap, "metadata.labels"))).containsEntry("grafana_dashboard", "1");
        assertThat(path(configMap, "metadata.namespace")).isEqualTo("monitoring");
        // The file itself, byte for byte (GrafanaDashboardIT checks its content against a live service).
        assertThat(path(configMap, "data.kvshare.json"))
                .isEqualTo(Files.readString(CHART.resolve("dashboards/kvshare.json")).strip());
    }

    @Test
    void networkPolicyAdmitsTheManagementPortFromMonitoringOnly() {
        Manifests m = render(true);
        Map<String, Object> policy = m.one("NetworkPolicy", fullname());
        List<Map<String, Object>> ingress = list(path(policy, "spec.ingress"));
        Map<String, Object> management = ingress.stream()
                .filter(rule -> list(rule.get("ports")).get(0).get("port").equals("management")).findFirst().orElseThrow();
        assertThat(list(management.get("from"))).containsExactly(Map.of("namespaceSelector",
                Map.of("matchLabels", Map.of("kubernetes.io/metadata.name", "monitoring"))));
        List<Map<String, Object>> egress = list(path(policy, "spec.egress"));
        assertThat(egress).anySatisfy(rule -> assertThat(list(rule.get("ports"))).anySatisfy(p -> assertThat(p.get("port")).isEqualTo(53)));
        assertThat(egress).anySatisfy(rule -> assertThat(list(rule.get("ports"))).anySatisfy(p -> assertThat(p.get("port")).isEqualTo(6379)));
        assertThat(m.one("NetworkPolicy", fullname() + "-redis")).isNotNull();
    }

    // ---- behind an inference gateway --------------------------------------------------------------------

    @Test
    void kvEventsAreOffByDefault() {
        Manifests m = render(false);
        assertThat(map(path(m.applicationConfig(), "kvshare"))).doesNotContainKey("kv-events");
        assertThat(list(m.container().get("ports"))).extracting(p -> p.get("name")).containsExactly("http", "management");
    }

    @Test
    void theInferencePoolExamplePublishesKvEventsThatTheEppCanReach() throws IOException {
        Manifests m = new Manifests(template().withValuesFile(CHART.resolve("examples/inference-pool-values.yaml"))
                .call());
        Map<String, Object> events = map(path(m.applicationConfig(), "kvshare.kv-events"));
        assertThat(events).containsEntry("enabled", true).containsEntry("endpoint", "tcp://*:5557")
                .containsEntry("replay-endpoint", "tcp://*:5558").containsEntry("buffer-steps", 10000)
                .containsEntry("format", "array").containsEntry("medium", "GPU")
                // Spring resolves ${POD_IP} from the environment: llm-d reads pod and model from the topic.
                .containsEntry("topic", "kv@${POD_IP}:8080@kvshare-support-tiny");
        assertThat(path(env(m.container(), "POD_IP"), "valueFrom.fieldRef.fieldPath")).isEqualTo("status.podIP");
        assertThat(containerPort(m.container(), "kv-events")).isEqualTo(5557);
        assertThat(containerPort(m.container(), "kv-replay")).isEqualTo(5558);
        assertThat(path(m.applicationConfig(), "kvshare.prompt-cache.block-size")).isEqualTo(64);
        assertThat(path(m.deployment(), "spec.template.metadata.labels.llm-d.ai/inference-serving")).isEqualTo("true");

        Map<String, Object> policy = m.one("NetworkPolicy", fullname());
        Map<String, Object> eventsRule = list(path(policy, "spec.ingress")).stream()
                .filter(rule -> list(rule.get("ports")).stream().anyMatch(p -> "kv-events".equals(p.get("port"))))
                .findFirst().orElseThrow();
        assertThat(list(eventsRule.get("ports"))).extracting(p -> p.get("port")).containsExactly("kv-events", "kv-replay");
        assertThat(list(eventsRule.get("from"))).containsExactly(Map.of("podSelector",
                Map.of("matchLabels", Map.of("inferencepool", "kvshare-epp"))));
        assertThat(m.ofKind("ScaledObject")).hasSize(1);
        assertThat(m.ofKind("PrometheusRule")).hasSize(1);
    }

    @Test
    void aCentralSubscriberAndAModelNameShapeEndpointAndTopic() {
        Manifests m = new Manifests(template().set("kvEvents.enabled", "true")
                .set("kvEvents.endpoint", "tcp://epp.gateway.svc:5557").set("model.existingClaim", "models")
                .set("model.mountPath", "/models/qwen2.5-0.5b-instruct").call());
        assertThat(path(m.applicationConfig(), "kvshare.kv-events.endpoint")).isEqualTo("tcp://epp.gateway.svc:5557");
        assertThat(path(m.applicationConfig(), "kvshare.kv-events.topic"))
                .isEqualTo("kv@${POD_IP}:8080@qwen2.5-0.5b-instruct");
        assertThatThrownBy(() -> template().set("kvEvents.format", "protobuf").call()).hasMessageContaining("schema");
    }

    @Test
    void thePrometheusRuleHoldsTheRunbooksAlertsAndTheyFire(@TempDir Path tmp) throws IOException, InterruptedException {
        Manifests m = new Manifests(template().set("metrics.prometheusRule.enabled", "true")
                .set("metrics.prometheusRule.runbookUrl", "https://docs.example.com/runbook")
                .set("kvEvents.enabled", "true").call());
        Map<String, Object> rule = m.one("PrometheusRule", fullname());
        List<Map<String, Object>> rules = list(path(list(path(rule, "spec.groups")).get(0), "rules"));
        assertThat(rules).extracting(r -> r.get("alert")).containsExactly("KvshareRedisCircuitOpen",
                "KvshareCacheFramesRejected", "KvshareNotFetchingFromRedis", "KvshareQueueBacklog",
                "KvshareRequestsRejected", "KvshareClientsGiveUpInQueue", "KvshareTimeToFirstTokenHigh",
                "KvsharePodRestarting", "KvshareKvEventsDropped");
        assertThat(rules).allSatisfy(r -> assertThat(path(r, "annotations.runbook_url"))
                .isEqualTo("https://docs.example.com/runbook"));
        assertThat(new Manifests(template().call()).ofKind("PrometheusRule")).isEmpty();

        // promtool (Debian's prometheus package) checks the PromQL and plays series through the rules.
        Path promtool = Path.of("/usr/bin/promtool");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(promtool),
                "Skipped: " + promtool + " is absent (Debian's prometheus package)");
        Map<String, Object> spec = map(rule.get("spec"));
        Files.writeString(tmp.resolve("checked.yml"), new Yaml().dump(spec));
        assertThat(run(tmp, promtool.toString(), "check", "rules", "checked.yml")).isEqualTo("");
        // The annotations are checked above (check rules validates their templates); the test matches labels.
        rules.forEach(r -> r.remove("annotations"));
        Files.writeString(tmp.resolve("rules.yml"), new Yaml().dump(spec));
        Path testFile = tmp.resolve("test.yml");
        String pod = "namespace=\"support\", pod=\"kvshare-7c9f8d6b5-x2x4q\"";
        Files.writeString(testFile, """
                rule_files: [rules.yml]
                evaluation_interval: 1m
                tests:
                  - interval: 1m
                    input_series:
                      - series: 'kvshare_prompt_cache_redis_breaker{%1$s, state="open"}'
                        values: '0 1x20'
                      - series: 'vllm:num_requests_waiting{%1$s, model_name="m"}'
                        values: '0 9x20'
                      - series: 'vllm:num_requests_waiting{namespace="support", pod="someone-else-5d4f-abcde", model_name="m"}'
                        values: '50x20'
                      - series: 'kvshare_prompt_cache_rejects_total{%1$s, reason="hmac_mismatch"}'
                        values: '0+5x30'
                      - series: 'kvshare_prompt_cache_rejects_total{%1$s, reason="unknown_key"}'
                        values: '0+5x30'
                      - series: 'kvshare_prompt_cache_rejects_total{%1$s, reason="truncated"}'
                        values: '0+5x30'
                    alert_rule_test:
                      - eval_time: 3m
                        alertname: KvshareRedisCircuitOpen
                      - eval_time: 10m
                        alertname: KvshareRedisCircuitOpen
                        exp_alerts:
                          - exp_labels: {severity: warning, namespace: support, pod: kvshare-7c9f8d6b5-x2x4q}
                      - eval_time: 15m
                        alertname: KvshareQueueBacklog
                        exp_alerts:
                          - exp_labels: {severity: warning, namespace: support}
                      - eval_time: 25m
                        alertname: KvshareCacheFramesRejected
                        exp_alerts:
                          - exp_labels: {severity: warning, namespace: support, reason: hmac_mismatch}
                          - exp_labels: {severity: warning, namespace: support, reason: unknown_key}
                      - eval_time: 15m
                        alertname: KvshareRequestsRejected
                """.formatted(pod));
        assertThat(run(tmp, promtool.toString(), "test", "rules", "test.yml")).isEqualTo("");
    }

    /** Runs a command in {@code directory}; its output when it fails, else "". */
    private static String run(Path directory, String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return process.waitFor() == 0 ? "" : output;
    }

    // ---- helpers -----------------------------------------------------------------------------------------

    /** NOTES.txt as a client-only dry-run install prints it. */
    private static String notes(Map<String, String> values) {
        InstallCommand install = new Helm(CHART).install().withName(RELEASE).withNamespace(NAMESPACE).clientOnly().dryRun();
        values.forEach(install::set);
        return install.call().getOutput();
    }

    /** A Secret's data value in clear. */
    private static String decode(Object base64) {
        return new String(java.util.Base64.getDecoder().decode((String) base64), StandardCharsets.UTF_8);
    }

    private static String fullname() {
        return RELEASE; // the release name contains the chart name
    }

    private static TemplateCommand template() {
        return new Helm(CHART).template().withName(RELEASE).withNamespace(NAMESPACE);
    }

    private static Manifests render(boolean gpuRedis) {
        TemplateCommand template = template();
        if (gpuRedis) {
            template = template.withValuesFile(GPU_REDIS_VALUES);
        }
        return new Manifests(template.call());
    }

    /** Lints a copy of the chart whose values.yaml is the chart's defaults merged with {@code overrides}. */
    private static LintResult lintWith(Path tmp, Map<String, Object> overrides) throws IOException {
        Path copy = tmp.resolve("kvshare");
        try (Stream<Path> files = Files.walk(CHART)) {
            for (Path file : files.toList()) {
                Path target = copy.resolve(CHART.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(file, target);
                }
            }
        }
        Map<String, Object> values = merge(loadYaml(CHART.resolve("values.yaml")), overrides);
        Files.writeString(copy.resolve("values.yaml"), new Yaml().dump(values));
        return new Helm(copy).lint().strict().call();
    }

    /** Helm's merge of values: maps merge key by key, anything else is replaced. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> merge(Map<String, Object> base, Map<String, Object> overrides) {
        Map<String, Object> merged = new LinkedHashMap<>(base);
        overrides.forEach((key, value) -> {
            if (value instanceof Map<?, ?> map && merged.get(key) instanceof Map<?, ?> existing) {
                merged.put(key, merge((Map<String, Object>) existing, (Map<String, Object>) map));
            } else {
                merged.put(key, value);
            }
        });
        return merged;
    }

    private static Map<String, Object> loadYaml(Path file) throws IOException {
        return new Yaml().load(Files.readString(file));
    }

    @SuppressWarnings("unchecked")
    static Object path(Object root, String dotted) {
        Object node = root;
        // Keys may contain dots (tenants.yml, nvidia.com/gpu): match the longest key present at each level.
        String rest = dotted;
        while (node != null && !rest.isEmpty()) {
            if (!(node instanceof Map<?, ?> map)) {
                return null;
            }
            String key = rest;
            while (!map.containsKey(key) && key.contains(".")) {
                key = key.substring(0, key.lastIndexOf('.'));
            }
            node = ((Map<String, Object>) map).get(key);
            rest = rest.length() > key.length() ? rest.substring(key.length() + 1) : "";
        }
        return node;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object node) {
        assertThat(node).isInstanceOf(Map.class);
        return (Map<String, Object>) node;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(Object node) {
        return node == null ? List.of() : (List<Map<String, Object>>) node;
    }

    private static List<String> strings(Object node) {
        return ((List<?>) node).stream().map(String::valueOf).toList();
    }

    private static List<Map<String, Object>> env(Map<String, Object> container) {
        return list(container.get("env"));
    }

    private static Map<String, Object> env(Map<String, Object> container, String name) {
        return env(container).stream().filter(e -> name.equals(e.get("name"))).findFirst()
                .orElseThrow(() -> new AssertionError("no env " + name + " in " + container.get("name")));
    }

    private static List<Object> mountPaths(Map<String, Object> container) {
        return list(container.get("volumeMounts")).stream().map(v -> v.get("mountPath")).toList();
    }

    private static int containerPort(Map<String, Object> container, String name) {
        return (Integer) list(container.get("ports")).stream().filter(p -> name.equals(p.get("name")))
                .findFirst().orElseThrow().get("containerPort");
    }

    /** The documents of one {@code helm template} output. */
    record Manifests(String text, List<Map<String, Object>> documents) {

        @SuppressWarnings("unchecked")
        Manifests(String text) {
            this(text, parse(text));
        }

        @SuppressWarnings("unchecked")
        private static List<Map<String, Object>> parse(String text) {
            List<Map<String, Object>> docs = new ArrayList<>();
            for (Object doc : new Yaml(new LoaderOptions()).loadAll(text)) {
                if (doc != null) {
                    docs.add((Map<String, Object>) doc);
                }
            }
            return docs;
        }

        List<Map<String, Object>> ofKind(String kind) {
            return documents.stream().filter(d -> kind.equals(d.get("kind"))).toList();
        }

        Map<String, Object> one(String kind, String name) {
            List<Map<String, Object>> found = ofKind(kind).stream()
                    .filter(d -> name.equals(path(d, "metadata.name"))).toList();
            assertThat(found).as("%s %s", kind, name).hasSize(1);
            return found.get(0);
        }

        Map<String, Object> deployment() {
            return one("Deployment", fullname());
        }

        Map<String, Object> container() {
            return list(path(deployment(), "spec.template.spec.containers")).stream()
                    .filter(c -> "kvshare".equals(c.get("name"))).findFirst().orElseThrow();
        }

        /** The application.yml the ConfigMap carries. */
        Map<String, Object> applicationConfig() {
            String yaml = (String) path(one("ConfigMap", fullname()), "data.application.yml");
            return Objects.requireNonNull(new Yaml().load(yaml));
        }
    }
}

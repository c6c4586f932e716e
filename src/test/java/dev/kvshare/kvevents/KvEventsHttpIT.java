package dev.kvshare.kvevents;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.kvshare.promptcache.PromptCache;
import dev.kvshare.testsupport.Http;
import dev.kvshare.testsupport.Instance;
import dev.kvshare.testsupport.Pause;
import dev.kvshare.testsupport.TestModels;
import dev.kvshare.testsupport.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;

/**
 * The KV events a router reads, end to end: a real instance publishes them over real ZeroMQ sockets to a consumer
 * that decodes the msgpack generically ({@link MsgpackValues}, {@link VllmEvents}), for real chat requests.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class) // the events test reads the replica's first stores
class KvEventsHttpIT {

    static final int BLOCK = 16;
    static final String TOPIC = "kv@10.0.0.7:8080@tiny";
    /** tiny-random-llama-fp16: 2 layers × 1 KV head × 16 dims × (key, value) × 2 bytes = 128 bytes a token. */
    static final long LOCAL_BYTES = 12 * (BLOCK * 128 + 4 * BLOCK + 512);
    static final String SYSTEM = "You are the help desk of a small bicycle shop in a quiet town. Answer in one short "
            + "sentence, be friendly, and never promise a repair date that the workshop has not confirmed.";

    private String publishEndpoint;
    private String replayEndpoint;
    private ZmqConsumer consumer;
    private Instance instance;

    @BeforeAll
    void start() {
        publishEndpoint = "tcp://127.0.0.1:" + TestRedis.freePort();
        replayEndpoint = "tcp://127.0.0.1:" + TestRedis.freePort();
        instance = Instance.start(Map.of("kvshare.model.path", TestModels.reference(TestModels.LLAMA).toString(),
                "kvshare.prompt-cache.block-size", BLOCK, "kvshare.prompt-cache.local.max-bytes", LOCAL_BYTES,
                "kvshare.kv-events.enabled", true, "kvshare.kv-events.endpoint", publishEndpoint,
                "kvshare.kv-events.replay-endpoint", replayEndpoint, "kvshare.kv-events.topic", TOPIC));
        // Subscribed once the replica has bound its socket, as a router meets a running pod: a SUB that dials a
        // port nobody listens on yet may, under load, connect to itself through an ephemeral port and stay deaf.
        consumer = new ZmqConsumer().subscribe(publishEndpoint, "kv@");
    }

    @AfterAll
    void stop() {
        if (instance != null) {
            instance.close();
        }
        if (consumer != null) {
            consumer.close();
        }
    }

    @Test
    @Order(1)
    void aRouterLearnsWhatTheLocalTierStoresAndEvictsAndCatchesUpByReplay() {
        // A request: its full blocks (all but the last prompt token, which is always computed) are stored.
        List<ZmqConsumer.Message> heard = new ArrayList<>(consumer.listen(1000));
        List<Integer> prompt = tokenize(SYSTEM, "My brakes squeak when it rains. Is that normal?");
        chat(SYSTEM, "My brakes squeak when it rains. Is that normal?");
        VllmEvents.Event stored = awaitStored(heard);
        int blocks = (prompt.size() - 1) / BLOCK;
        assertThat(blocks).isGreaterThanOrEqualTo(2);
        assertThat(stored.fields().get("token_ids")).isEqualTo(longs(prompt.subList(0, blocks * BLOCK)));
        assertThat(stored.longs("block_hashes")).hasSize(blocks).doesNotHaveDuplicates();
        assertThat(stored.fields().get("parent_block_hash")).as("the prompt's first block has no parent").isNull();
        assertThat(stored.fields().get("block_size")).isEqualTo((long) BLOCK);
        assertThat(stored.fields().get("medium")).isEqualTo("GPU");
        assertThat(stored.fields().get("lora_id")).isNull();
        assertThat(stored.fields().get("lora_name")).isNull();
        for (ZmqConsumer.Message message : heard) {
            assertThat(message.topic()).isEqualTo(TOPIC);
        }
        for (int i = 1; i < heard.size(); i++) {
            assertThat(heard.get(i).sequence()).isGreaterThan(heard.get(i - 1).sequence());
        }
        List<Long> firstHashes = stored.longs("block_hashes");

        // Missed while not listening: the same system prompt with a longer question stores only its new blocks,
        // chained to the last shared one.
        consumer.unsubscribe();
        String longer = "My brakes squeak when it rains and the chain skips on hills. Should I bring the bike in "
                + "this week, or can it wait until the weekend sale?";
        List<Integer> second = tokenize(SYSTEM, longer);
        chat(SYSTEM, longer);
        long lastHeard = heard.get(heard.size() - 1).sequence();
        List<ZmqConsumer.Message> missed = awaitReplay(lastHeard + 1, "BlockStored");
        VllmEvents.Event continued = events(missed, "BlockStored").get(0);
        int parentIndex = firstHashes.indexOf((Long) continued.fields().get("parent_block_hash"));
        assertThat(parentIndex).as("the new blocks hang off a block of the first request").isNotNegative();
        int newBlocks = (second.size() - 1) / BLOCK - (parentIndex + 1);
        assertThat(continued.fields().get("token_ids")).isEqualTo(longs(second.subList((parentIndex + 1) * BLOCK,
                (parentIndex + 1 + newBlocks) * BLOCK)));
        assertThat(firstHashes.subList(0, parentIndex + 1)).doesNotContainAnyElementsOf(continued.longs("block_hashes"));

        // Replay from the start: the restart's AllBlocksCleared first, then every batch, byte for byte as published.
        List<ZmqConsumer.Message> everything = consumer.replay(replayEndpoint, 0);
        assertThat(everything.get(0).sequence()).isZero();
        assertThat(batch(everything.get(0)).events()).extracting(VllmEvents.Event::type)
                .containsExactly("AllBlocksCleared");
        for (int i = 0; i < everything.size(); i++) {
            assertThat(everything.get(i).sequence()).isEqualTo(i);
        }
        for (ZmqConsumer.Message message : heard) {
            assertThat(everything.get((int) message.sequence()).payload()).isEqualTo(message.payload());
        }

        // A small local tier: new prompts push blocks out, and each one that leaves is reported.
        long removedFrom = everything.size();
        List<ZmqConsumer.Message> after = List.of();
        for (int shop = 1; shop <= 6 && events(after, "BlockRemoved").isEmpty(); shop++) {
            chat("Shop " + shop + ". " + SYSTEM + " Shop " + shop + " opens at " + (6 + shop) + " in the morning.",
                    "When do you open on Saturdays, and do you rent out e-bikes for a whole day?");
            after = awaitReplay(removedFrom, "BlockStored");
        }
        List<VllmEvents.Event> removed = events(after, "BlockRemoved");
        assertThat(removed).as("evictions from a %d-byte local tier", LOCAL_BYTES).isNotEmpty();
        Set<Long> everStored = new HashSet<>();
        for (ZmqConsumer.Message message : consumer.replay(replayEndpoint, 0)) {
            for (VllmEvents.Event event : batch(message).events()) {
                if (event.type().equals("BlockStored")) {
                    everStored.addAll(event.longs("block_hashes"));
                } else if (event.type().equals("BlockRemoved")) {
                    assertThat(everStored).as("a removed block was stored before").containsAll(event.longs("block_hashes"));
                    assertThat(event.fields().get("medium")).isEqualTo("GPU");
                }
            }
        }
        assertThat(instance.bean(PromptCache.class).localStats().bytes()).isLessThanOrEqualTo(LOCAL_BYTES);
    }

    @Test
    @Order(2)
    void theGatewayGaugesAreExposedUnderVllmNames() {
        String model = instance.http().get("/v1/models").json().path("data").path(0).path("id").asString();
        String scrape = instance.http().get("/actuator/prometheus").body();
        assertThat(scrape).containsPattern("(?m)^vllm:num_requests_waiting\\{.*model_name=\"" + model + "\"\\} 0\\.0$")
                .containsPattern("(?m)^vllm:num_requests_running\\{.*model_name=\"" + model + "\"\\} 0\\.0$")
                .contains("# TYPE vllm:kv_cache_usage_perc gauge");
        chat(SYSTEM, "Do you sell bells?");
        PromptCache cache = instance.bean(PromptCache.class);
        double usage = instance.metric("vllm:kv_cache_usage_perc", "model_name=\"" + model + "\"");
        assertThat(usage).isPositive().isLessThanOrEqualTo(1.0)
                .isEqualTo((double) cache.localStats().bytes() / LOCAL_BYTES);
    }

    /** Reads SUB messages into {@code heard} until one carries a BlockStored; returns that event. */
    private VllmEvents.Event awaitStored(List<ZmqConsumer.Message> heard) {
        for (int i = 0; i < 100; i++) {
            ZmqConsumer.Message message = consumer.receive(300);
            if (message == null) {
                continue;
            }
            heard.add(message);
            List<VllmEvents.Event> stored = events(List.of(message), "BlockStored");
            if (!stored.isEmpty()) {
                return stored.get(0);
            }
        }
        throw new AssertionError("no BlockStored published within 30 s; heard " + heard.size() + " batches");
    }

    /** Replays from {@code start} until the replay holds an event of {@code type} (the publisher runs behind). */
    private List<ZmqConsumer.Message> awaitReplay(long start, String type) {
        for (int i = 0; i < 100; i++) {
            List<ZmqConsumer.Message> replayed = consumer.replay(replayEndpoint, start);
            if (!events(replayed, type).isEmpty()) {
                return replayed;
            }
            Pause.sleep(100);
        }
        throw new AssertionError("no " + type + " replayed from sequence " + start);
    }

    private static List<VllmEvents.Event> events(List<ZmqConsumer.Message> messages, String type) {
        return messages.stream().flatMap(message -> batch(message).events().stream())
                .filter(event -> event.type().equals(type)).toList();
    }

    private static VllmEvents.Batch batch(ZmqConsumer.Message message) {
        VllmEvents.Batch batch = VllmEvents.fromArrays(MsgpackValues.decode(message.payload()));
        assertThat(batch.fields().get("ts")).isInstanceOf(Double.class);
        assertThat(batch.fields().get("data_parallel_rank")).isEqualTo(0L);
        return batch;
    }

    private List<Integer> tokenize(String system, String user) {
        Http.Response response = instance.http().post("/tokenize", messages(system, user));
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        List<Integer> ids = new ArrayList<>();
        response.json().path("tokens").forEach(id -> ids.add(id.asInt()));
        return ids;
    }

    private JsonNode chat(String system, String user) {
        String body = messages(system, user).replaceFirst("\\{", "{\"max_tokens\": 2, \"temperature\": 0, ");
        Http.Response response = instance.http().post("/v1/chat/completions", body);
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        return response.json();
    }

    private static String messages(String system, String user) {
        return "{\"messages\": [{\"role\": \"system\", \"content\": " + Http.JSON.writeValueAsString(system)
                + "}, {\"role\": \"user\", \"content\": " + Http.JSON.writeValueAsString(user) + "}]}";
    }

    private static List<Long> longs(List<Integer> ints) {
        return ints.stream().map(Integer::longValue).toList();
    }

}

package dev.kvshare.promptcache;

import static dev.kvshare.promptcache.PromptCacheReplicaIT.cached;
import static dev.kvshare.promptcache.PromptCacheReplicaIT.ids;
import static dev.kvshare.promptcache.PromptCacheReplicaIT.json;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;

import dev.kvshare.generation.PromptBuilder;
import dev.kvshare.testsupport.Instance;
import dev.kvshare.testsupport.TestPrompts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.Resources;
import tools.jackson.databind.JsonNode;

/**
 * A conversation is never prefilled twice: a finished sequence's prompt and reply are kept for its next turn; the
 * local tier keeps what was just computed, and what is read again, over a flood of one-off prompts. Bundled model,
 * its default block size (64), over HTTP.
 */
// Beside the serial integration tests (applications of its own), but never during one that captures the
// output (docs/architecture.md, Tests); its tests one after another, as two services at once would only compete.
@Execution(ExecutionMode.CONCURRENT)
@ResourceLock(value = Resources.SYSTEM_OUT, mode = ResourceAccessMode.READ)
class ConversationCacheHttpIT {

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void turnTwoReusesTurnOnesPromptAndReplyAndAnswersLikeAColdRun() {
        try (Instance instance = Instance.start(Map.of())) {
            List<String> messages = new ArrayList<>(List.of(message("system", TestPrompts.SUPPORT),
                    message("user", "Where is my order 4417203?")));
            JsonNode first = chat(instance, messages, null);
            String reply = first.path("choices").path(0).path("message").path("content").asText();
            List<Integer> fed = new ArrayList<>(ids(first.path("prompt_token_ids")));
            List<Integer> generated = ids(first.path("choices").path(0).path("token_ids"));
            fed.addAll(generated.subList(0, generated.size() - 1));

            messages.add(message("assistant", reply));
            messages.add(message("user", "Thanks. Can I change the delivery address to 12 Elm Street?"));
            JsonNode second = chat(instance, messages, null);
            JsonNode cold = chat(instance, messages, "cold");
            List<Integer> prompt = ids(second.path("prompt_token_ids"));
            assertThat(cached(cold)).isZero();
            assertThat(PromptCacheReplicaIT.commonPrefix(prompt, fed)).as("the template re-renders the reply as generated")
                    .isEqualTo(fed.size());
            assertThat(cached(second)).isEqualTo(fed.size());
            assertThat(second.path("choices").path(0).path("token_ids"))
                    .isEqualTo(cold.path("choices").path(0).path("token_ids"));

            // The same turn again: everything but its last token is restored, and the answer is the same.
            JsonNode again = chat(instance, messages, null);
            assertThat(cached(again)).isEqualTo(prompt.size() - 1);
            assertThat(again.path("choices").path(0).path("token_ids"))
                    .isEqualTo(cold.path("choices").path(0).path("token_ids"));
        }
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void conversationsDecodedTogetherEachKeepTheirOwnRowOfTheBatch() throws Exception {
        try (Instance instance = Instance.start(Map.of())) {
            // Different lengths: in the shared batch the shorter row is left-padded.
            int[] shorter = new Random(1).ints(150, 10, 3000).toArray();
            int[] longer = new Random(2).ints(230, 10, 3000).toArray();
            var first = CompletableFuture.supplyAsync(() -> turn(instance, shorter, 60, null));
            var second = CompletableFuture.supplyAsync(() -> turn(instance, longer, 60, null));
            for (var conversation : List.of(Map.entry(shorter, first.get()),
                    Map.entry(longer, second.get()))) {
                int[] generated = ids(conversation.getValue().path("choices").path(0).path("token_ids")).stream()
                        .mapToInt(Integer::intValue).toArray();
                int[] next = IntStream.concat(IntStream.concat(
                        Arrays.stream(conversation.getKey()), Arrays.stream(generated)),
                        IntStream.of(7, 8, 9, 10)).toArray();
                JsonNode warm = turn(instance, next, 8, null);
                assertThat(cached(warm)).isEqualTo(conversation.getKey().length + generated.length - 1);
                assertThat(warm.path("choices").path(0).path("token_ids"))
                        .isEqualTo(turn(instance, next, 8, "cold").path("choices").path(0).path("token_ids"));
            }
            assertThat(instance.metric("kvshare_batch_size_max")).as("rows of the largest batched pass")
                    .isGreaterThan(1);
        }
    }

    private static JsonNode turn(Instance instance, int[] prompt, int maxTokens, String salt) {
        var response = instance.http().post("/v1/completions", "{\"prompt\": " + Arrays.toString(prompt)
                + ", \"max_tokens\": " + maxTokens + ", \"temperature\": 0, \"ignore_eos\": true, "
                + "\"return_token_ids\": true" + (salt == null ? "" : ", \"cache_salt\": \"" + salt + "\"") + "}");
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        return response.json();
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void aFullLocalTierKeepsTheNewestPrompt() {
        // Sequences run their own passes here (the other tests batch), so both decoders hand over their KV.
        try (Instance instance = Instance.start(Map.of("kvshare.prompt-cache.local.max-bytes", TIER_BYTES,
                "kvshare.generation.max-batch-size", 1))) {
            int[] newest = null;
            for (int i = 0; i < 10; i++) {
                newest = oneOff(i);
                assertThat(cached(complete(instance, newest))).isZero();
            }
            LocalKvStore.Stats full = instance.bean(PromptCache.class).localStats();
            assertThat(full.evictions()).as("the tier was filled").isPositive();
            assertThat(full.bytes()).isLessThanOrEqualTo(TIER_BYTES);

            double localBefore = instance.metric("kvshare_prompt_tokens_total", "source=\"local\"");
            JsonNode repeat = complete(instance, newest);
            assertThat(cached(repeat)).isEqualTo(newest.length - 1);
            assertThat(instance.metric("kvshare_prompt_tokens_total", "source=\"local\"") - localBefore)
                    .isEqualTo(newest.length - 1);
        }
    }

    @Execution(ExecutionMode.SAME_THREAD)
    @Test
    void aSystemPromptInUseSurvivesAFloodOfOneOffPrompts() {
        try (Instance instance = Instance.start(Map.of("kvshare.prompt-cache.local.max-bytes", TIER_BYTES))) {
            List<String> questions = List.of("Where is my parcel?", "Can I pay by invoice?", "Do you ship abroad?");
            for (String question : questions) {
                chat(instance, List.of(message("system", TestPrompts.SUPPORT), message("user", question)), null);
            }
            for (int i = 0; i < 20; i++) {
                complete(instance, oneOff(i));
            }
            assertThat(instance.bean(PromptCache.class).localStats().evictions()).isPositive();
            JsonNode after = chat(instance, List.of(message("system", TestPrompts.SUPPORT),
                    message("user", "Is there a phone number?")), null);
            List<Integer> prompt = ids(after.path("prompt_token_ids"));
            int systemPrefix = instance.bean(PromptBuilder.class)
                    .systemPrefix(TestPrompts.SUPPORT).length;
            assertThat(cached(after)).isGreaterThanOrEqualTo(systemPrefix / 64 * 64).isLessThan(prompt.size());
        }
    }

    /** Bytes for about three 600-token prompts of the bundled model (2 KiB of KV per token). */
    private static final long TIER_BYTES = 4L << 20;

    private static int[] oneOff(int seed) {
        return new Random(seed).ints(600, 10, 3000).toArray();
    }

    private static JsonNode complete(Instance instance, int[] prompt) {
        var response = instance.http().post("/v1/completions", "{\"prompt\": " + Arrays.toString(prompt)
                + ", \"max_tokens\": 2, \"temperature\": 0}");
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        return response.json();
    }

    private static String message(String role, String content) {
        return "{\"role\": \"" + role + "\", \"content\": " + json(content) + "}";
    }

    private static JsonNode chat(Instance instance, List<String> messages, String salt) {
        var response = instance.http().post("/v1/chat/completions", """
                {"messages": [%s], "max_tokens": 80, "temperature": 0, "return_token_ids": true%s}"""
                .formatted(String.join(", ", messages), salt == null ? "" : ", \"cache_salt\": \"" + salt + "\""));
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        return response.json();
    }
}

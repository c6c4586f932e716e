package dev.kvshare.soak;

import java.util.List;
import java.util.Map;
import java.util.Random;

import dev.kvshare.testsupport.Http;

/**
 * One request of the soak's traffic: a greedy chat (so its answer can be checked against a cold reference),
 * streamed or not, and how its client behaves.
 *
 * @param hangUp {@code null} for a client that reads the whole answer
 */
record SoakRequest(String system, String user, boolean stream, HangUp hangUp) {

    /** Where a client that leaves leaves. */
    enum HangUp { BEFORE_FIRST_BYTE, DURING_PREFILL, MID_STREAM }

    static final int MAX_TOKENS = 16;

    private static final String POLICY = "Orders ship within two business days. Refunds reach the original payment "
            + "method within a week of the return arriving. Damaged items are replaced free of charge. Never ask "
            + "for full card numbers; escalate billing disputes to a human agent. ";
    private static final List<String> QUESTIONS = List.of("Where is my order?", "I want a refund.",
            "I was charged twice.", "How do I cancel my subscription?", "I forgot my password.",
            "Can I talk to a human?");

    /**
     * Shared system prompts of a few lengths (so their last full block falls at different places), now and
     * then a unique one; a question, now and then with unique text.
     */
    static SoakRequest next(Random random) {
        String system = random.nextInt(5) == 0
                ? "You help the customers of shop " + random.nextInt(1_000_000) + ". " + POLICY
                : "You are the support assistant of Example Shop. " + POLICY.repeat(1 + random.nextInt(3) * 3);
        String user = QUESTIONS.get(random.nextInt(QUESTIONS.size()))
                + (random.nextInt(4) == 0 ? " Order " + random.nextInt(100_000) + "." : "");
        boolean stream = random.nextBoolean();
        HangUp hangUp = random.nextInt(3) > 0 ? null
                : HangUp.values()[random.nextInt(stream ? 3 : 2)];
        return new SoakRequest(system, user, stream, hangUp);
    }

    String body() {
        return Http.JSON.writeValueAsString(Map.of("messages", List.of(Map.of("role", "system", "content", system),
                        Map.of("role", "user", "content", user)), "max_tokens", MAX_TOKENS, "temperature", 0,
                "ignore_eos", true, "stream", stream, "return_token_ids", true));
    }

    /** The same conversation as a complete, non-streaming request (for the reference answer). */
    SoakRequest asReference() {
        return new SoakRequest(system, user, false, null);
    }
}

package dev.kvshare.generation;

import java.util.OptionalLong;

/**
 * How the next token is chosen from the logits.
 *
 * @param temperature      0 is greedy; otherwise logits are divided by it
 * @param topK             keep the k most likely tokens; 0 keeps all
 * @param topP             keep the smallest set of tokens whose probability reaches p; 1 keeps all
 * @param presencePenalty  OpenAI's: subtracted once from every token already generated
 * @param frequencyPenalty OpenAI's: subtracted per earlier occurrence of a generated token
 * @param seed             makes sampling reproducible
 */
public record SamplingParams(double temperature, int topK, double topP, double presencePenalty,
                             double frequencyPenalty, OptionalLong seed) {

    public static final SamplingParams GREEDY = new SamplingParams(0, 0, 1, 0, 0, OptionalLong.empty());

    public SamplingParams {
        if (!(temperature >= 0) || topK < 0 || !(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("temperature >= 0, top_k >= 0 and 0 < top_p <= 1 are required");
        }
    }

    public boolean greedy() {
        return temperature == 0 || topK == 1;
    }

    boolean penalized() {
        return presencePenalty != 0 || frequencyPenalty != 0;
    }
}

package dev.kvshare.generation;

import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.function.BooleanSupplier;

import dev.kvshare.model.Tokenizer;
import dev.kvshare.observability.SequenceObservation;

/**
 * The decode loop of one sequence: logits → sampler → token → text, until EOS, a stop string or the limit. The
 * sampling may happen on the decoder's side ({@link SequenceDecoder#tokens}); the text is always made here.
 */
final class Generation {

    private final GenerationRequest request;
    private final Tokenizer tokenizer;
    private final Set<Integer> eosTokenIds;
    private final int contextLength;
    private final SequenceObservation observation;

    Generation(GenerationRequest request, Tokenizer tokenizer, Set<Integer> eosTokenIds, int contextLength,
               SequenceObservation observation) {
        this.request = request;
        this.tokenizer = tokenizer;
        this.eosTokenIds = eosTokenIds;
        this.contextLength = contextLength;
        this.observation = observation;
    }

    /**
     * Runs the loop on {@code decoder}, streaming text to {@code sink}, and reports its progress to the
     * sequence's observation.
     *
     * @param cachedTokens   prompt tokens the decoder already holds the KV of
     * @param cancelled      true once the client is gone: the loop stops at the next token
     */
    GenerationResult run(SequenceDecoder decoder, int cachedTokens, TokenSink sink, BooleanSupplier cancelled)
            throws Exception {
        int[] prompt = request.promptIds();
        Sampler sampler = new Sampler(request.sampling(), request.constraint().get());
        IncrementalDetokenizer detokenizer = new IncrementalDetokenizer(tokenizer, prompt);
        StopStrings stops = new StopStrings(request.stop());
        StringBuilder text = new StringBuilder();
        int[] generated = new int[Math.min(request.maxTokens(), contextLength - prompt.length)];
        TokenEnding ending = new TokenEnding(eosTokenIds, request.ignoreEos(), generated.length);
        TokenSource tokens = decoder.tokens(sampler, request.stop().isEmpty() ? ending : null);
        int count = 0;
        int unsentFrom = 0;
        FinishReason reason = FinishReason.LENGTH;
        boolean stoppedByString = false;

        observation.prefilling(prompt.length - cachedTokens);
        int token = tokens.first(prompt);
        Duration timeToFirstToken = observation.firstToken();
        while (true) {
            generated[count++] = token;
            if (ending.endsWith(token)) {
                reason = sampler.constraintCutShort() ? FinishReason.LENGTH : FinishReason.STOP;
                break;
            }
            observation.token();
            StopStrings.Offer offer = stops.offer(detokenizer.add(token));
            if (!offer.text().isEmpty() || offer.stopped()) {
                text.append(offer.text());
                sink.accept(new TextChunk(offer.text(), Arrays.copyOfRange(generated, unsentFrom, count)));
                unsentFrom = count;
            }
            if (offer.stopped()) {
                reason = FinishReason.STOP;
                stoppedByString = true;
                break;
            }
            if (sampler.constraintComplete()) { // structured output: the value is whole
                reason = sampler.constraintCutShort() ? FinishReason.LENGTH : FinishReason.STOP;
                break;
            }
            if (count == generated.length) {
                break;
            }
            if (cancelled.getAsBoolean()) {
                throw new GenerationCancelledException();
            }
            token = tokens.next(token);
        }
        if (!stoppedByString) {
            // Text held back for an incomplete character or a possible stop string is due now.
            StopStrings.Offer tail = stops.offer(detokenizer.finish());
            String rest = tail.stopped() ? tail.text() : tail.text() + stops.flush();
            if (!rest.isEmpty() || unsentFrom < count) {
                text.append(rest);
                sink.accept(new TextChunk(rest, Arrays.copyOfRange(generated, unsentFrom, count)));
            }
        }
        observation.finished(count, reason.label());
        return new GenerationResult(text.toString(), Arrays.copyOf(generated, count), reason, prompt.length,
                cachedTokens, timeToFirstToken);
    }
}

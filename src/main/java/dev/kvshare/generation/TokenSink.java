package dev.kvshare.generation;

/**
 * Receives a sequence's text as it is generated, on the generating thread. Throwing (a client that went
 * away, say) stops the generation.
 */
@FunctionalInterface
public interface TokenSink {

    TokenSink NONE = chunk -> { };

    void accept(TextChunk chunk) throws Exception;
}

package dev.kvshare.generation;

/** Text generated since the previous chunk, and the ids of the tokens that produced it. */
public record TextChunk(String text, int[] tokenIds) {
}

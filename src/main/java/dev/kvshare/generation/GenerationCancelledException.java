package dev.kvshare.generation;

/** A sequence stopped because its request was cancelled (the client disconnected, or read too slowly). */
public class GenerationCancelledException extends RuntimeException {

    public GenerationCancelledException() {
        super("The request was cancelled", null, false, false);
    }
}

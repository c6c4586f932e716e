package dev.kvshare.generation;

/** A prompt the served model cannot run: it does not render, does not fit the context, or leaves the vocabulary. */
public class InvalidPromptException extends RuntimeException {

    public InvalidPromptException(String message) {
        super(message);
    }
}

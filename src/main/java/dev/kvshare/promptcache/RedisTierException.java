package dev.kvshare.promptcache;

/** The Redis tier failed (refused, timed out, errored); the caller treats it as a miss and carries on. */
public class RedisTierException extends RuntimeException {

    public RedisTierException(String message, Throwable cause) {
        super(message, cause);
    }
}

package dev.kvshare.generation;

/** Every generation slot is busy and the queue is full; answered with HTTP 429 and Retry-After. */
public class ServiceOverloadedException extends RuntimeException {

    public ServiceOverloadedException(String message) {
        super(message);
    }
}

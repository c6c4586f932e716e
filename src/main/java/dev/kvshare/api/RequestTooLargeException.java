package dev.kvshare.api;

/** A request body passed {@code kvshare.limits.max-request-bytes} while it was being read (HTTP 413). */
class RequestTooLargeException extends RuntimeException {

    RequestTooLargeException(long maxBytes) {
        super("The request body is larger than this server accepts (" + maxBytes + " bytes); see "
                + "kvshare.limits.max-request-bytes");
    }
}

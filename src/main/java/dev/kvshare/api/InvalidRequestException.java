package dev.kvshare.api;

/** The client sent a request field this server cannot take; answered with HTTP 400 naming that field. */
public class InvalidRequestException extends RuntimeException {

    private final String param;

    public InvalidRequestException(String message, String param) {
        super(message);
        this.param = param;
    }

    /** The request field at fault, or null. */
    public String param() {
        return param;
    }
}

package dev.kvshare.generation;

/** The client asked for something this model cannot do; answered with HTTP 400. */
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

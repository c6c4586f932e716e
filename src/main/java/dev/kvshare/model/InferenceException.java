package dev.kvshare.model;

/** ONNX Runtime failed while running the model: a server-side fault, never the client's. */
public class InferenceException extends RuntimeException {

    public InferenceException(String message, Throwable cause) {
        super(message, cause);
    }
}

package dev.kvshare.model;

/**
 * The model's chat template rejected the conversation through {@code raise_exception(msg)}, e.g. because
 * the roles do not alternate. The message is the template's own; it is the client's fault (HTTP 400).
 */
public class ChatTemplateException extends RuntimeException {

    public ChatTemplateException(String message) {
        super(message);
    }

    /**
     * Backs the templates' {@code raise_exception(msg)} function; public because the template engine calls
     * it by reflection.
     */
    public static String raise(String message) {
        throw new ChatTemplateException(message);
    }
}

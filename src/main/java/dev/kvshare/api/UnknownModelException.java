package dev.kvshare.api;

/** The request names a model this instance does not serve. */
class UnknownModelException extends RuntimeException {

    UnknownModelException(String model) {
        super("The model '" + OpenAiError.quote(model) + "' does not exist; GET /v1/models lists the served model");
    }
}

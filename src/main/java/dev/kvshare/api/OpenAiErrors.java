package dev.kvshare.api;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

import dev.kvshare.generation.InvalidPromptException;
import dev.kvshare.generation.ServiceOverloadedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.ErrorResponse;
import tools.jackson.core.JacksonException;

/**
 * Maps what went wrong to an HTTP status and an OpenAI error body, for plain responses and for errors
 * sent inside an event stream alike. Client errors are logged without a stack trace; server faults with one.
 */
final class OpenAiErrors {

    private static final Logger log = LoggerFactory.getLogger(OpenAiErrors.class);

    /** The status and body for one failure. */
    record Mapped(HttpStatusCode status, OpenAiError body) {
    }

    private OpenAiErrors() {
    }

    static Mapped map(Throwable failure) {
        Throwable e = unwrap(failure);
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof RequestTooLargeException tooLarge) {
                return client(HttpStatus.CONTENT_TOO_LARGE, tooLarge.getMessage(), "invalid_request_error", null,
                        "request_too_large");
            }
        }
        if (e instanceof InvalidRequestException invalid) {
            return client(HttpStatus.BAD_REQUEST, invalid.getMessage(), "invalid_request_error", invalid.param(), null);
        }
        if (e instanceof InvalidPromptException invalid) { // a prompt of no request field (the console's warm-up)
            return client(HttpStatus.BAD_REQUEST, invalid.getMessage(), "invalid_request_error", null, null);
        }
        if (e instanceof UnknownModelException unknown) {
            return client(HttpStatus.BAD_REQUEST, unknown.getMessage(), "invalid_request_error", "model",
                    "model_not_found");
        }
        if (e instanceof HttpMessageNotReadableException unreadable) {
            return client(HttpStatus.BAD_REQUEST, "The request body is not valid JSON of the expected shape: "
                    + conciseCause(unreadable), "invalid_request_error", jsonPath(unreadable), null);
        }
        if (e instanceof ServiceOverloadedException overloaded) {
            return client(HttpStatus.TOO_MANY_REQUESTS, overloaded.getMessage(), "requests", null,
                    "rate_limit_exceeded");
        }
        if (e instanceof ErrorResponse spring && spring.getStatusCode().is4xxClientError()) {
            String detail = spring.getBody().getDetail();
            return client(spring.getStatusCode(), detail != null ? detail : e.getMessage(), "invalid_request_error",
                    null, null);
        }
        log.error("Request failed", e);
        return new Mapped(HttpStatus.INTERNAL_SERVER_ERROR,
                OpenAiError.of("The server failed to process the request: " + e.getMessage(), "server_error",
                        null, null));
    }

    private static Mapped client(HttpStatusCode status, String message, String type, String param, String code) {
        OpenAiError body = OpenAiError.of(message, type, param, code);
        log.debug("Client error {}: {}", status.value(), body.error().message());
        return new Mapped(status, body);
    }

    private static Throwable unwrap(Throwable e) {
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    /** The field a JSON mapping error is about, as {@code messages[0].role}; null when it has no path. */
    private static String jsonPath(Throwable e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof JacksonException jackson && !jackson.getPath().isEmpty()) {
                StringBuilder path = new StringBuilder();
                for (JacksonException.Reference reference : jackson.getPath()) {
                    if (reference.getPropertyName() != null) {
                        path.append(path.isEmpty() ? "" : ".").append(reference.getPropertyName());
                    } else if (reference.getIndex() >= 0) {
                        path.append('[').append(reference.getIndex()).append(']');
                    }
                }
                return path.isEmpty() ? null : path.toString();
            }
        }
        return null;
    }

    /** The innermost parser message, without the stack of wrappers Spring and Jackson add. */
    private static String conciseCause(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? "unreadable body" : root.getMessage();
        int newline = message.indexOf('\n');
        return newline > 0 ? message.substring(0, newline) : message;
    }
}

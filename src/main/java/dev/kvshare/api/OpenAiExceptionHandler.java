package dev.kvshare.api;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

import dev.kvshare.generation.GenerationProperties;
import dev.kvshare.promptcache.CacheNamespace;
import jakarta.servlet.http.HttpServletRequest;

/** Every failure of the API answers with an OpenAI error body. */
@RestControllerAdvice
class OpenAiExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(OpenAiExceptionHandler.class);
    /** The OpenAI API's paths: their refusals go to the request log. */
    private static final String API_PATHS = "/v1/";

    private final GenerationProperties generation;
    private final RequestLog requestLog;
    private final CacheNamespace namespace;

    OpenAiExceptionHandler(GenerationProperties generation, RequestLog requestLog, CacheNamespace namespace) {
        this.generation = generation;
        this.requestLog = requestLog;
        this.namespace = namespace;
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<OpenAiError> handle(Exception failure, HttpServletRequest request) {
        if (ClientDisconnects.isDisconnect(failure)) {
            // Nobody to answer: e.g. a scraper that read the first lines of /actuator/prometheus and left.
            log.debug("The client disconnected: {}", failure.toString());
            return null;
        }
        OpenAiErrors.Mapped mapped = OpenAiErrors.map(failure);
        if (request.getRequestURI().startsWith(API_PATHS)) {
            requestLog.refused(request.getRequestURI(), namespace.tenantFor(request.getHeader(HttpHeaders.AUTHORIZATION)),
                    mapped.status().value(), mapped.body().error().type());
        }
        ResponseEntity.BodyBuilder response = ResponseEntity.status(mapped.status())
                .contentType(MediaType.APPLICATION_JSON);
        if (mapped.status().value() == HttpStatus.TOO_MANY_REQUESTS.value()) {
            response.header(HttpHeaders.RETRY_AFTER, Integer.toString(generation.retryAfterSeconds()));
        }
        return response.body(mapped.body());
    }
}

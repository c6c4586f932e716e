package dev.kvshare.api;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

import dev.kvshare.generation.GenerationService;

/** Every failure of the API answers with an OpenAI error body. */
@RestControllerAdvice
class OpenAiExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(OpenAiExceptionHandler.class);

    private final GenerationService generation;

    OpenAiExceptionHandler(GenerationService generation) {
        this.generation = generation;
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<OpenAiError> handle(Exception failure) {
        if (ClientDisconnects.isDisconnect(failure)) {
            // Nobody to answer: e.g. a scraper that read the first lines of /actuator/prometheus and left.
            log.debug("The client disconnected: {}", failure.toString());
            return null;
        }
        OpenAiErrors.Mapped mapped = OpenAiErrors.map(failure);
        ResponseEntity.BodyBuilder response = ResponseEntity.status(mapped.status())
                .contentType(MediaType.APPLICATION_JSON);
        if (mapped.status().value() == HttpStatus.TOO_MANY_REQUESTS.value()) {
            response.header(HttpHeaders.RETRY_AFTER, Integer.toString(generation.retryAfterSeconds()));
        }
        return response.body(mapped.body());
    }
}

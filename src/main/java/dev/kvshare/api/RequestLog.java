package dev.kvshare.api;

import java.time.Duration;

import dev.kvshare.generation.GenerationResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;
import org.springframework.stereotype.Component;

/**
 * The operators' access log of completion requests: one INFO line per request on the logger
 * {@code kvshare.requests} ({@code kvshare.logging.requests}, default on), with the outcome as key-value pairs
 * that structured logging ({@code logging.structured.format.console=ecs|logstash}) writes as JSON fields. Only
 * counts and times — never prompt or completion text.
 */
@Component
class RequestLog {

    private static final Logger log = LoggerFactory.getLogger("kvshare.requests");

    private final boolean enabled;

    RequestLog(RequestLogProperties properties) {
        this.enabled = properties.requests();
    }

    /** A request admitted to generation, to be logged once when it ends. */
    Entry start(String requestId, String tenant, String model) {
        return new Entry(requestId, tenant, model, System.nanoTime());
    }

    /** A request refused before generation (bad input, overload): logged with its HTTP status. */
    void refused(String path, String tenant, int status, String errorType) {
        if (enabled && log.isInfoEnabled()) {
            log.atInfo().addKeyValue("path", path).addKeyValue("tenant", tenant).addKeyValue("status", status)
                    .addKeyValue("error_type", errorType)
                    .log("request refused path={} tenant={} status={} error_type={}", path, tenant, status, errorType);
        }
    }

    /** One admitted request: what it is, and since when it runs. */
    final class Entry {

        private final String requestId;
        private final String tenant;
        private final String model;
        private final long startNanos;

        private Entry(String requestId, String tenant, String model, long startNanos) {
            this.requestId = requestId;
            this.tenant = tenant;
            this.model = model;
            this.startNanos = startNanos;
        }

        /** It generated to the end. */
        void finished(GenerationResult result) {
            if (enabled && log.isInfoEnabled()) {
                long ttftMs = result.timeToFirstToken().toMillis();
                line(result.promptTokens(), result.cachedTokens(), result.completionTokens(), ttftMs,
                        result.finishReason().label(), 200);
            }
        }

        /** It failed after admission ({@code error} and its HTTP status), or the client left ({@code cancelled}, 0). */
        void ended(String outcome, int status) {
            if (enabled && log.isInfoEnabled()) {
                line(null, null, null, null, outcome, status);
            }
        }

        private void line(Integer prompt, Integer cached, Integer completion, Long ttftMs, String finish, int status) {
            long durationMs = Duration.ofNanos(System.nanoTime() - startNanos).toMillis();
            LoggingEventBuilder event = log.atInfo().addKeyValue("request_id", requestId)
                    .addKeyValue("tenant", tenant).addKeyValue("model", model);
            if (prompt != null) {
                event = event.addKeyValue("prompt_tokens", prompt).addKeyValue("cached_tokens", cached)
                        .addKeyValue("completion_tokens", completion).addKeyValue("ttft_ms", ttftMs);
            }
            event = event.addKeyValue("duration_ms", durationMs).addKeyValue("finish_reason", finish);
            if (status != 0) {
                event = event.addKeyValue("status", status);
            }
            event.log("request {} tenant={} model={} prompt_tokens={} cached_tokens={} completion_tokens={} "
                            + "ttft_ms={} duration_ms={} finish_reason={} status={}", requestId, tenant, model,
                            dash(prompt), dash(cached), dash(completion), dash(ttftMs), durationMs, finish,
                            status == 0 ? "-" : status);
        }

        private static Object dash(Object value) {
            return value == null ? "-" : value;
        }
    }
}

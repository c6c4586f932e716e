package dev.kvshare.toolcall;

import java.util.List;

import dev.kvshare.model.ServedModel;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.stereotype.Component;

/**
 * {@code kvshare_tool_calls_rejected_total{reason}}: tool-call blocks a free reply wrote that the service could
 * not run and dropped from the text the customer sees: {@code undeclared} (it names a tool the request did not
 * declare), {@code malformed} (not a call object with an arguments object, or cut off).
 */
@Component
public class ToolCallMetrics {

    public static final List<String> REASONS = List.of("undeclared", "malformed");

    private final MeterRegistry registry;
    private final String model;

    public ToolCallMetrics(MeterRegistry registry, ServedModel model) {
        this.registry = registry;
        this.model = model.name();
        REASONS.forEach(this::counter); // at zero from start-up, for rates and alerts
    }

    /** Counts one dropped call per entry of {@code reasons}. */
    public void rejected(List<String> reasons) {
        reasons.forEach(reason -> counter(reason).increment());
    }

    private Counter counter(String reason) {
        return Counter.builder("kvshare.tool.calls.rejected")
                .description("Tool calls in a reply that were dropped, not run: undeclared tool, or malformed")
                .tags("model", model, "reason", reason).register(registry);
    }
}

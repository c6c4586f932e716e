package dev.kvshare.toolcall;

import java.util.Optional;

import dev.kvshare.model.ToolCallFormat;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code kvshare.tools.*}: tool calling.
 *
 * @param format   how the model writes tool calls: {@code auto} (detected from its chat template),
 *                 {@code hermes} or {@code llama3-json}
 * @param maxTools tools one request may declare
 */
@ConfigurationProperties("kvshare.tools")
public record ToolProperties(@DefaultValue("auto") String format, @DefaultValue("128") int maxTools) {

    public ToolProperties {
        configuredFormat(format);
        if (maxTools < 1) {
            throw new IllegalArgumentException("kvshare.tools.max-tools must be at least 1");
        }
    }

    /** The configured format; empty for {@code auto}. */
    public Optional<ToolCallFormat> configuredFormat() {
        return configuredFormat(format);
    }

    private static Optional<ToolCallFormat> configuredFormat(String format) {
        return format.equalsIgnoreCase("auto") ? Optional.empty() : Optional.of(ToolCallFormat.named(format));
    }
}

package dev.kvshare.model;

import java.util.Locale;

/**
 * Where the model runs, as written in {@code kvshare.model.device}: {@code auto} (CUDA when its provider
 * loads, else CPU), {@code cpu}, or {@code cuda[:N]}.
 */
public record ExecutionDevice(Kind kind, int cudaDeviceId) {

    public enum Kind { AUTO, CPU, CUDA }

    public static ExecutionDevice parse(String text) {
        String value = text == null ? "auto" : text.trim().toLowerCase(Locale.ROOT);
        if (value.equals("auto")) {
            return new ExecutionDevice(Kind.AUTO, 0);
        }
        if (value.equals("cpu")) {
            return new ExecutionDevice(Kind.CPU, 0);
        }
        if (value.equals("cuda")) {
            return new ExecutionDevice(Kind.CUDA, 0);
        }
        if (value.startsWith("cuda:")) {
            try {
                int id = Integer.parseInt(value.substring("cuda:".length()));
                if (id >= 0) {
                    return new ExecutionDevice(Kind.CUDA, id);
                }
            } catch (NumberFormatException ignored) {
                // falls through to the error below
            }
        }
        throw new IllegalArgumentException(
                "kvshare.model.device must be auto, cpu, cuda or cuda:N, not '" + text + "'");
    }
}

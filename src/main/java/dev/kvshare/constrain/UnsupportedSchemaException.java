package dev.kvshare.constrain;

import java.util.List;

/** A schema that cannot be compiled: features this compiler does not support, or bounds it exceeds. */
public class UnsupportedSchemaException extends RuntimeException {

    private final List<String> problems;

    public UnsupportedSchemaException(List<String> problems) {
        super("Unsupported JSON schema: " + String.join("; ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}

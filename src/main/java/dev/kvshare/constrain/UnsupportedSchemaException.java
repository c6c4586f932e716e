package dev.kvshare.constrain;

import java.util.List;

/** A schema that cannot be compiled: features this compiler does not support, or bounds it exceeds. */
public class UnsupportedSchemaException extends RuntimeException {

    /** @param problems each feature or bound, with where in the schema it is */
    public UnsupportedSchemaException(List<String> problems) {
        super("Unsupported JSON schema: " + String.join("; ", problems));
    }
}

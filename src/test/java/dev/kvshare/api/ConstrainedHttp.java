package dev.kvshare.api;

/** Settings of the HTTP tests of constrained decoding. */
final class ConstrainedHttp {

    /**
     * The bundled model is not trained on JSON and seldom writes a quote: strings close at 48 characters so
     * that values complete within a test's max_tokens (one shared application context for these tests).
     */
    static final String SHORT_STRINGS = "kvshare.constrain.max-string-chars=48";

    private ConstrainedHttp() {
    }
}

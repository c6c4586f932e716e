package dev.kvshare.promptcache;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code kvshare.prompt-cache.*} (see docs/configuration.md and docs/prompt-cache.md).
 *
 * @param enabled          reuse the KV of cached prompt prefixes
 * @param blockSize        tokens per cached block; 0 chooses one from the model's KV bytes per token
 * @param hmacKey          when set, frames are signed and unsigned or forged frames are refused
 * @param requireHmac      refuse to start with the Redis tier on and neither {@code hmac-key} nor
 *                         {@code encryption-key}: unprotected frames let anyone who can write to Redis plant KV
 *                         that changes other users' answers
 * @param encryptionKey    when set (32 bytes, hex or base64), every Redis frame is AES-256-GCM encrypted under it,
 *                         and frames are read only encrypted; replaces {@code hmac-key}
 * @param decryptionKeys   earlier encryption keys whose frames are still read (a key rotation)
 * @param singleFlightWait how long a request waits for another request computing the same prefix
 * @param tenants          API key (the bearer token a client sends) → tenant; a tenant's entries are
 *                         never shared with another tenant, whatever {@code cache_salt} a client sends
 * @param warmup           prompts prefilled and stored at start-up
 * @param publicPrefixes   prompts whose full blocks every tenant shares (and warm-up prefills); everything after
 *                         them stays per tenant
 */
@ConfigurationProperties("kvshare.prompt-cache")
public record PromptCacheProperties(
        @DefaultValue("true") boolean enabled,
        @DefaultValue("0") int blockSize,
        @DefaultValue Local local,
        @DefaultValue Redis redis,
        String hmacKey,
        @DefaultValue("false") boolean requireHmac,
        String encryptionKey,
        List<String> decryptionKeys,
        @DefaultValue("30s") Duration singleFlightWait,
        Map<String, String> tenants,
        List<Warmup> warmup,
        List<PublicPrefix> publicPrefixes) {

    public PromptCacheProperties {
        if (blockSize < 0) {
            throw new IllegalArgumentException("kvshare.prompt-cache.block-size must not be negative");
        }
        if (requireHmac && redis.enabled() && isBlank(hmacKey) && isBlank(encryptionKey)) {
            throw new IllegalArgumentException("kvshare.prompt-cache.require-hmac is set but neither "
                    + "kvshare.prompt-cache.hmac-key (env KVSHARE_PROMPTCACHE_HMACKEY) nor "
                    + "kvshare.prompt-cache.encryption-key (env KVSHARE_PROMPTCACHE_ENCRYPTIONKEY) is configured: "
                    + "refusing to share unprotected KV frames through Redis");
        }
        decryptionKeys = decryptionKeys == null ? List.of() : List.copyOf(decryptionKeys);
        FrameKeys.parse(encryptionKey, decryptionKeys); // a malformed key fails start-up, Redis on or off
        tenants = tenants == null ? Map.of() : Map.copyOf(tenants);
        warmup = warmup == null ? List.of() : List.copyOf(warmup);
        publicPrefixes = publicPrefixes == null ? List.of() : List.copyOf(publicPrefixes);
    }

    /** Whether frames in Redis are encrypted (an encryption key is configured): then they are not signed. */
    public boolean encryptsFrames() {
        return !isBlank(encryptionKey);
    }

    /** Whether frames in Redis are signed: an HMAC key and no encryption key is configured. */
    public boolean signsFrames() {
        return !isBlank(hmacKey) && !encryptsFrames();
    }

    /** How frames are protected in Redis, as health reports it: {@code encrypted}, {@code signed} or {@code unsigned}. */
    public String frameProtection() {
        return encryptsFrames() ? "encrypted" : signsFrames() ? "signed" : "unsigned";
    }

    private static boolean isBlank(String value) {
        return value == null || value.isBlank();
    }

    /**
     * @param maxBytes bound of the in-process tier, in bytes of KV; 0 sizes it from the model
     *                 ({@link LocalTierSize})
     */
    public record Local(@DefaultValue("0") long maxBytes) {

        public Local {
            if (maxBytes < 0) {
                throw new IllegalArgumentException("kvshare.prompt-cache.local.max-bytes must not be negative");
            }
        }
    }

    /**
     * @param enabled               use Redis as the shared tier ({@code spring.data.redis.*} says where it is)
     * @param ttl                   every entry expires after this long
     * @param timeout               a Redis command that takes longer fails, and the prefix is computed instead
     * @param failureThreshold      consecutive failures that open the circuit breaker
     * @param openDuration          how long the breaker keeps Redis out of the request path
     */
    public record Redis(
            @DefaultValue("false") boolean enabled,
            @DefaultValue("1h") Duration ttl,
            @DefaultValue("500ms") Duration timeout,
            @DefaultValue("3") int failureThreshold,
            @DefaultValue("10s") Duration openDuration) {
    }

    /**
     * A prompt to prefill at start-up: a chat system prompt (rendered by the model's template) or raw text.
     *
     * @param tenant     the tenant whose entries these are; unset: requests without a known API key
     * @param cacheSalt  the {@code cache_salt} the requests will send, if any
     */
    public record Warmup(String system, String text, String tenant, String cacheSalt) {
    }

    /**
     * An operator-declared public prompt: a chat system prompt (as every conversation opening with it renders) or
     * raw completion text. Only configuration declares one; no request can.
     */
    public record PublicPrefix(String system, String text) {

        public PublicPrefix {
            if ((system == null || system.isBlank()) == (text == null || text.isBlank())) {
                throw new IllegalArgumentException("each kvshare.prompt-cache.public-prefixes entry needs either "
                        + "system or text, not both");
            }
        }

        /** Warms this prefix like a warm-up prompt of no tenant: its blocks are the same for every tenant. */
        public Warmup asWarmup() {
            return new Warmup(system, text, null, null);
        }
    }
}

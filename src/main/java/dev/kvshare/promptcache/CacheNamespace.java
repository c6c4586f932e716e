package dev.kvshare.promptcache;

import java.util.Map;

/**
 * Which cache entries a request may share: derived on the server from the caller's tenant (its API key,
 * looked up in {@code kvshare.prompt-cache.tenants}) together with the request's {@code cache_salt}. A
 * salt sent by a client alone isolates nothing — anyone can send the victim's salt — so it only ever
 * narrows sharing within the caller's own tenant.
 */
public final class CacheNamespace {

    /** Callers without a configured API key share this tenant. */
    public static final String ANONYMOUS = "anonymous";

    private final Map<String, String> tenantsByApiKey;

    public CacheNamespace(Map<String, String> tenantsByApiKey) {
        this.tenantsByApiKey = Map.copyOf(tenantsByApiKey);
    }

    private static final String BEARER = "Bearer ";

    /** Whether any API key names a tenant. */
    public boolean hasTenants() {
        return !tenantsByApiKey.isEmpty();
    }

    /** The tenant of a bearer token; unknown or absent tokens are {@link #ANONYMOUS}. */
    public String tenantOf(String apiKey) {
        return apiKey == null ? ANONYMOUS : tenantsByApiKey.getOrDefault(apiKey, ANONYMOUS);
    }

    /**
     * The salt of a request, from its {@code Authorization} header, {@code cache_salt} and OpenAI's
     * {@code prompt_cache_key} (each may be null).
     */
    public String saltFor(String authorization, String cacheSalt, String promptCacheKey) {
        String salt = salt(tenantFor(authorization), cacheSalt);
        // Without a key the salt is what it always was, so existing entries stay shared.
        return promptCacheKey == null ? salt : salt + "|prompt_cache_key:" + promptCacheKey.length() + ":"
                + promptCacheKey;
    }

    /** The tenant of a request's {@code Authorization} header (may be null). */
    public String tenantFor(String authorization) {
        String apiKey = authorization != null && authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())
                ? authorization.substring(BEARER.length()).trim() : null;
        return tenantOf(apiKey);
    }

    /** The salt the prefix hashes are seeded with: tenant and cache_salt, unambiguously joined. */
    public static String salt(String tenant, String cacheSalt) {
        String salt = cacheSalt == null ? "" : cacheSalt;
        return tenant.length() + ":" + tenant + "|" + salt;
    }
}

package dev.kvshare.api;

import dev.kvshare.promptcache.CacheNamespace;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.http.HttpHeaders;
import org.springframework.stereotype.Component;

/**
 * Who a request comes from, for fair share: its tenant (from its bearer key) when tenants are configured,
 * otherwise its remote address. Tenants are the unit an operator hands out; without them an address is the
 * best a server knows (clients behind one proxy share it: configure tenants, or the proxy's forwarded address
 * through {@code server.forward-headers-strategy}).
 */
@Component
class Clients {

    private final CacheNamespace namespace;

    Clients(CacheNamespace namespace) {
        this.namespace = namespace;
    }

    String of(HttpServletRequest request) {
        if (namespace.hasTenants()) {
            return "tenant:" + namespace.tenantFor(request.getHeader(HttpHeaders.AUTHORIZATION));
        }
        return "address:" + request.getRemoteAddr();
    }
}

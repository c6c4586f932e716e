package dev.kvshare.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The owner of native resources (KV caches, logits buffers, a session) that share one lifetime: a sequence's,
 * a batch's, a model load's. Modelled on DJL's {@code NDManager}: what a scope tracks it closes when it is
 * closed, in reverse order of tracking, every one even if some throw (the first failure is thrown with the
 * others suppressed); a resource leaves a scope only when handed over explicitly ({@link #detach},
 * {@link #transferTo}). So an error path anywhere inside a lifetime frees what that lifetime holds.
 *
 * <p>Thread-safe, so that a sequence's scope can be handed from its thread to the batch scheduler's.
 */
public final class NativeScope implements AutoCloseable {

    /** Few resources at a time (a sequence holds a cache and a logits buffer): a list beats a map here. */
    private final List<AutoCloseable> owned = new ArrayList<>();
    private boolean closed;

    /** Takes {@code resource} into this scope; a closed scope closes it at once and throws. */
    public <T extends AutoCloseable> T track(T resource) {
        synchronized (this) {
            if (!closed) {
                owned.add(resource);
                return resource;
            }
        }
        closeAll(List.of(resource));
        throw new IllegalStateException("This native scope is closed");
    }

    /** Hands {@code resource} back to the caller, who now owns it. */
    public synchronized <T extends AutoCloseable> T detach(T resource) {
        for (int i = owned.size() - 1; i >= 0; i--) {
            if (owned.get(i) == resource) {
                owned.remove(i);
                return resource;
            }
        }
        throw new IllegalArgumentException("This native scope does not hold " + resource);
    }

    /** Moves {@code resource} into {@code other}, which closes it from now on. */
    public <T extends AutoCloseable> T transferTo(NativeScope other, T resource) {
        return other.track(detach(resource));
    }

    /**
     * Tracks {@code next} in place of {@code previous}, which is closed now: a cache chain's step, where each
     * pass's present replaces the past it ran on.
     */
    public <T extends AutoCloseable> T replace(AutoCloseable previous, T next) {
        track(next);
        closeAll(List.of(detach(previous)));
        return next;
    }

    /** Closes {@code resource} now, before the scope ends. */
    public void close(AutoCloseable resource) {
        closeAll(List.of(detach(resource)));
    }

    @Override
    public void close() {
        List<AutoCloseable> closing;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            closing = new ArrayList<>(owned);
            owned.clear();
        }
        Collections.reverse(closing);
        closeAll(closing);
    }

    private static void closeAll(List<AutoCloseable> resources) {
        Throwable first = null;
        for (AutoCloseable resource : resources) {
            try {
                resource.close();
            } catch (Exception | Error e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first instanceof RuntimeException runtime) {
            throw runtime;
        }
        if (first instanceof Error error) {
            throw error;
        }
        if (first != null) {
            throw new IllegalStateException("Could not close a native resource", first);
        }
    }
}

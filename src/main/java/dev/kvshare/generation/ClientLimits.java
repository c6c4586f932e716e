package dev.kvshare.generation;

import java.time.Duration;

/**
 * What one client may hold of the service (from {@code kvshare.limits.*}).
 *
 * @param slowClientTimeout   how long a client may leave generated text unread before its request is cancelled
 * @param maxRunningPerClient sequences one client may run at once; 0: every slot ({@code max-concurrent})
 * @param maxQueuedPerClient  requests one client may have waiting; 0: a quarter of {@code max-queued} (at
 *                            least 1), so that one client never fills the queue alone
 * @param maxNeighbourSlowdown how much slower than their rows alone a client holding batch places beyond its
 *                            first may make the decode passes it shares with clients that have fewer requests
 *                            (at least 1; {@link BatchPolicy})
 */
public record ClientLimits(Duration slowClientTimeout, int maxRunningPerClient, int maxQueuedPerClient,
                           double maxNeighbourSlowdown) {

    public ClientLimits {
        if (slowClientTimeout.isNegative() || slowClientTimeout.isZero() || maxRunningPerClient < 0
                || maxQueuedPerClient < 0 || !(maxNeighbourSlowdown >= 1)) {
            throw new IllegalArgumentException("kvshare.limits: slow-client-timeout must be positive, "
                    + "max-running-per-client and max-queued-per-client not negative, max-neighbour-slowdown at "
                    + "least 1");
        }
    }

    /** The defaults: a client alone may use every slot and a quarter of the queue; beside others, see above. */
    public static ClientLimits defaults() {
        return new ClientLimits(Duration.ofSeconds(10), 0, 0, 1.2);
    }

    FairAdmission.Limits admissionLimits(GenerationProperties generation) {
        int running = maxRunningPerClient == 0 ? generation.maxConcurrent()
                : Math.min(maxRunningPerClient, generation.maxConcurrent());
        int queued = maxQueuedPerClient == 0 ? Math.max(1, generation.maxQueued() / 4)
                : Math.min(maxQueuedPerClient, generation.maxQueued());
        return new FairAdmission.Limits(generation.maxConcurrent(), generation.maxQueued(), running,
                Math.min(queued, generation.maxQueued()));
    }
}

package dev.kvshare.promptcache;

import java.util.List;
import java.util.Optional;

/**
 * What enters and leaves this replica's local tier, for routers that send a prompt to the replica holding its
 * prefix (see {@code dev.kvshare.kvevents}). Called on request and scheduler threads: an implementation must
 * return at once and never fail.
 */
public interface LocalTierEvents {

    /** Reports nothing: the default while KV events are off. */
    LocalTierEvents NONE = new LocalTierEvents() {
        @Override
        public void stored(Optional<BlockHash> parent, List<KvBlock> blocks) {
        }

        @Override
        public void removed(BlockHash hash) {
        }
    };

    /**
     * Consecutive blocks of one prompt are about to enter the local tier (reported before they do, so that an
     * eviction of one of them is reported after it).
     *
     * @param parent the hash of the block before {@code blocks.get(0)}; empty when that is the prompt's first
     */
    void stored(Optional<BlockHash> parent, List<KvBlock> blocks);

    /** A block left the local tier: evicted for size, expired or dropped. */
    void removed(BlockHash hash);
}

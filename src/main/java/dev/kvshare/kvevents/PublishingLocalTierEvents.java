package dev.kvshare.kvevents;

import java.util.List;
import java.util.Optional;

import dev.kvshare.promptcache.BlockHash;
import dev.kvshare.promptcache.KvBlock;
import dev.kvshare.promptcache.LocalTierEvents;

/** The local tier's changes as vLLM's events: one {@code BlockStored} per stored run, one {@code BlockRemoved} per block. */
public final class PublishingLocalTierEvents implements LocalTierEvents {

    private final KvEventPublisher publisher;
    private final String medium;

    public PublishingLocalTierEvents(KvEventPublisher publisher, String medium) {
        this.publisher = publisher;
        this.medium = medium;
    }

    @Override
    public void stored(Optional<BlockHash> parent, List<KvBlock> blocks) {
        if (blocks.isEmpty()) {
            return;
        }
        int blockSize = blocks.get(0).tokenIds().length;
        long[] hashes = new long[blocks.size()];
        int[] tokens = new int[blocks.size() * blockSize];
        for (int i = 0; i < blocks.size(); i++) {
            hashes[i] = BlockHashes.toLong(blocks.get(i).hash());
            System.arraycopy(blocks.get(i).tokenIds(), 0, tokens, i * blockSize, blockSize);
        }
        publisher.publish(new KvEvent.BlockStored(hashes, parent.map(BlockHashes::toLong).orElse(null), tokens,
                blockSize, medium));
    }

    @Override
    public void removed(BlockHash hash) {
        publisher.publish(new KvEvent.BlockRemoved(new long[] {BlockHashes.toLong(hash)}, medium));
    }
}

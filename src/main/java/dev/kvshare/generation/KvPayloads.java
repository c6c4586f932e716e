package dev.kvshare.generation;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;

import dev.kvshare.model.KvBlocks;
import dev.kvshare.model.KvCache;
import dev.kvshare.model.KvRow;
import dev.kvshare.model.TokenRange;
import dev.kvshare.promptcache.PayloadSource;
import dev.kvshare.promptcache.PromptCache;

/** Turns the prompt cache's block payloads into a decoder's past, and a decoder's KV into payload sources. */
final class KvPayloads {

    private final KvBlocks kvBlocks;

    KvPayloads(KvBlocks kvBlocks) {
        this.kvBlocks = kvBlocks;
    }

    /** The found blocks as a new cache (the caller owns it), or empty when nothing was found. */
    Optional<KvCache> restore(List<PromptCache.FoundBlock> found) {
        if (found.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(kvBlocks.assemble(found.stream().map(used -> new KvBlocks.Piece(used.block().payload(),
                used.block().tokenIds().length, used.tokens())).toList()));
    }

    /** Readies the memory of a restore of up to {@code tokens} tokens ({@link KvBlocks#prepareRestore}). */
    void prepareRestore(int tokens) {
        kvBlocks.prepareRestore(tokens);
    }

    /**
     * The prefilled {@code cache} under a lease taken now, on the prefill's thread: the copier thread copies from
     * it later, and a close of the cache meanwhile frees it only once the lease is closed.
     */
    PayloadSource.Held held(KvCache cache) {
        KvCache.Lease lease = cache.lease();
        return new PayloadSource.Held() {
            @Override
            public List<ByteBuffer> copy(List<TokenRange> ranges) {
                return kvBlocks.copyOut(lease, ranges);
            }

            @Override
            public void close() {
                lease.close();
            }
        };
    }

    /** The KV of {@code fed}, one sequence's row; read while the caller's {@code readKv} lasts. */
    PayloadSource of(KvRow kv, int[] fed) {
        if (kv.length() != fed.length) {
            throw new IllegalArgumentException("The KV covers " + kv.length() + " tokens, not " + fed.length);
        }
        return ranges -> kvBlocks.copyOut(kv, ranges);
    }
}

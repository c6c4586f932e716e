package dev.kvshare.promptcache;

import java.util.List;

/**
 * The hashes of a prompt's full blocks and each block's parent: the previous block's hash, or for the first
 * block of a chain segment its seed (see {@link PrefixHasher}).
 *
 * @param publicBlocks how many leading blocks lie wholly inside a declared public prefix (shared by every tenant)
 * @param next         the parent a block after the last full one would have: what a partial block is keyed by,
 *                     so one that follows public blocks is keyed with the tenant's salt like any later block
 */
public record BlockChain(List<BlockHash> hashes, List<BlockHash> parents, int publicBlocks, BlockHash next) {

    public BlockChain {
        hashes = List.copyOf(hashes);
        parents = List.copyOf(parents);
        if (hashes.size() != parents.size()) {
            throw new IllegalArgumentException("every block has one parent");
        }
    }

    /** The parent of block {@code block}, which may be one past the last full block ({@link #next()}). */
    public BlockHash parentOf(int block) {
        return block == hashes.size() ? next : parents.get(block);
    }

    public int size() {
        return hashes.size();
    }

    public BlockHash hash(int block) {
        return hashes.get(block);
    }

    public BlockHash parent(int block) {
        return parents.get(block);
    }
}

package dev.kvshare.bench;

/** Suite, written next. */
final class KvCacheSuite implements Suite {
    @Override
    public void run(BenchContext context, Report report) {
        throw new UnsupportedOperationException("not yet");
    }
}

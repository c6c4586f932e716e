package dev.kvshare.bench;

/** Suite 4, written next. */
final class CodecSuite implements Suite {
    @Override
    public void run(BenchContext context, Report report) {
        throw new UnsupportedOperationException("not yet");
    }
}

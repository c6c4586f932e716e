package dev.kvshare.bench;

/** One benchmark suite of docs/benchmarks.md: it measures its variants side by side and reports. */
interface Suite {

    /** Runs the suite and adds its section to the report. */
    void run(BenchContext context, Report report) throws Exception;
}

package dev.kvshare.bench;

import java.nio.file.Path;

/**
 * What every suite gets: whether this is the quick run, where benchmark-shape models are, and where raw
 * output (CSV, plots) goes.
 *
 * @param quick      the short variant (under 5 minutes): fewer sizes and repetitions
 * @param benchModels {@code models/bench}, holding the benchmark-shape models (tools/model/make-bench-models.sh)
 * @param output     {@code target/benchmarks}: CSV and PNG files
 * @param docs       {@code docs}: where the report and its plots are written
 */
record BenchContext(boolean quick, Path benchModels, Path output, Path docs) {

    /** The repetitions to use: {@code full} normally, {@code quick} in the quick run. */
    int repetitions(int full, int quickCount) {
        return quick ? quickCount : full;
    }

    Path benchModel(String name) {
        return benchModels.resolve(name);
    }
}

package dev.kvshare.observability;

import java.time.Duration;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/** The batch scheduler's meters: how full its passes are, what padding and repacking cost, how prefill is paced. */
public class BatchMetrics {

    private final DistributionSummary batchSize;
    private final DistributionSummary paddingShare;
    private final Timer passTime;
    private final Timer repackTime;
    private final DistributionSummary repackBytes;
    private final DistributionSummary prefillTokens;
    private final DistributionSummary prefillRows;
    private final Counter preempted;
    private final Counter paused;

    public BatchMetrics(MeterRegistry registry, String model) {
        this.batchSize = DistributionSummary.builder("kvshare.batch.size")
                .description("Sequences advanced by one batched decode pass").tag("model", model)
                .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64).register(registry);
        this.paddingShare = DistributionSummary.builder("kvshare.batch.padding.ratio")
                .description("Share of a batched pass's past KV columns that are padding").tag("model", model)
                .serviceLevelObjectives(0.1, 0.25, 0.5, 0.75).register(registry);
        this.passTime = Timer.builder("kvshare.batch.pass.duration")
                .description("Time of one batched decode pass, handing out the logits included")
                .tag("model", model).publishPercentileHistogram().register(registry);
        this.repackTime = Timer.builder("kvshare.batch.repack.duration")
                .description("Time to change the batch's rows when sequences join or leave, parking rows included")
                .tag("model", model).publishPercentileHistogram().register(registry);
        this.repackBytes = DistributionSummary.builder("kvshare.batch.repack.bytes")
                .description("Bytes of KV one change of the batch's rows copied into it (rows joining or moved)")
                .baseUnit("bytes").tag("model", model).register(registry);
        this.prefillTokens = DistributionSummary.builder("kvshare.batch.prefill.tokens")
                .description("Prompt tokens prefilled in one scheduler iteration (at most prefill-tokens-per-step)")
                .tag("model", model).serviceLevelObjectives(1, 16, 64, 256, 1024).register(registry);
        this.prefillRows = DistributionSummary.builder("kvshare.batch.prefill.rows")
                .description("Prompts prefilled together in one prefill pass")
                .tag("model", model).serviceLevelObjectives(1, 2, 4, 8, 16).register(registry);
        this.preempted = parked(registry, model, "preempted");
        this.paused = parked(registry, model, "paused");
    }

    private static Counter parked(MeterRegistry registry, String model, String reason) {
        return Counter.builder("kvshare.batch.parked")
                .description("Sequences whose KV row left the batch to wait: preempted for another client, or paused "
                        + "because their client is not reading")
                .tags("model", model, "reason", reason).register(registry);
    }

    public void pass(int rows, double padding, long nanos) {
        batchSize.record(rows);
        paddingShare.record(padding);
        passTime.record(Duration.ofNanos(nanos));
    }

    public void repacked(long nanos, long bytes) {
        repackTime.record(Duration.ofNanos(nanos));
        repackBytes.record(bytes);
    }

    public void prefilled(int tokens) {
        prefillTokens.record(tokens);
    }

    /** A prefill pass ran {@code rows} prompts together. */
    public void prefillPass(int rows) {
        prefillRows.record(rows);
    }

    /** A sequence's row was parked: {@code preempted} for another client's sequence, otherwise paused. */
    public void parked(boolean preempted) {
        (preempted ? this.preempted : paused).increment();
    }
}

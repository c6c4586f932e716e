package dev.kvshare.model;

import java.nio.file.Path;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens ONNX Runtime sessions on the configured execution provider. ONNX Runtime's {@code addCUDA} throws
 * when the CUDA provider or its libraries cannot load (the CPU build has none): {@code auto} falls back to
 * CPU and says so once, {@code cuda} fails fast.
 *
 * <p>Not final: a test opens through a subclass to see that a failed load closes its session.
 */
public class OrtSessionFactory {

    private static final Logger log = LoggerFactory.getLogger(OrtSessionFactory.class);

    /** The opened session and the provider it actually runs on ({@code CUDA:0} or {@code CPU}). */
    public record OpenedSession(OrtSession session, String executionProvider) {
    }

    private final OrtEnvironment env;

    public OrtSessionFactory(OrtEnvironment env) {
        this.env = env;
    }

    public OpenedSession open(Path onnxFile, ExecutionDevice device, int intraOpThreads) throws OrtException {
        try (SessionOptions options = new SessionOptions()) {
            options.setOptimizationLevel(OptLevel.ALL_OPT);
            options.setIntraOpNumThreads(intraOpThreads > 0 ? intraOpThreads : availableCores());
            String provider = addProvider(options, device);
            return new OpenedSession(env.createSession(onnxFile.toString(), options), provider);
        }
    }

    /**
     * The intra-op threads of {@code kvshare.model.intra-op-threads} 0: one per core this process may use (the
     * JVM's count follows CPU affinity and a container's CPU limit). Left to ONNX Runtime (its count of physical
     * cores), it was 1 on the 2-core test machine: every pass ran on the calling thread alone, 1.4-1.8x the wall
     * time of two threads (docs/benchmarks.md, "The same prompt again").
     */
    static int availableCores() {
        return Runtime.getRuntime().availableProcessors();
    }

    private static String addProvider(SessionOptions options, ExecutionDevice device) throws OrtException {
        switch (device.kind()) {
            case CPU:
                return "CPU";
            case CUDA:
                options.addCUDA(device.cudaDeviceId());
                return "CUDA:" + device.cudaDeviceId();
            default:
                if (!OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
                    // The CPU build: nothing to try, and a failed attempt is only noise in the start-up log.
                    log.info("kvshare.model.device=auto: CUDA execution provider unavailable (this ONNX Runtime "
                            + "build has none); running on CPU");
                    return "CPU";
                }
                try {
                    options.addCUDA(device.cudaDeviceId());
                    log.info("kvshare.model.device=auto: running on the CUDA execution provider (device {})",
                            device.cudaDeviceId());
                    return "CUDA:" + device.cudaDeviceId();
                } catch (OrtException | LinkageError e) {
                    log.info("kvshare.model.device=auto: CUDA execution provider unavailable ({}); running on CPU",
                            e.getMessage());
                    return "CPU";
                }
        }
    }
}

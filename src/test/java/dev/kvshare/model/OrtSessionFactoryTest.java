package dev.kvshare.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.kvshare.testsupport.TestModels;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/** Execution provider choice on a machine without CUDA (the CPU build has no CUDA provider at all). */
@ExtendWith(OutputCaptureExtension.class)
class OrtSessionFactoryTest {

    private final Path model = TestModels.reference(TestModels.GPT2).resolve("past.onnx");
    private final OrtSessionFactory factory = new OrtSessionFactory(OrtEnvironment.getEnvironment());

    @Test
    void autoFallsBackToCpuAndSaysSo(CapturedOutput output) throws OrtException {
        var opened = factory.open(model, ExecutionDevice.parse("auto"), 1);
        try (var session = opened.session()) {
            assertThat(opened.executionProvider()).isEqualTo("CPU");
            assertThat(session.getInputNames()).contains("input_ids");
        }
        assertThat(output).contains("CUDA execution provider unavailable").contains("running on CPU");
    }

    @Test
    void explicitCudaFailsFastInsteadOfFallingBack() {
        assertThatThrownBy(() -> factory.open(model, ExecutionDevice.parse("cuda:0"), 1))
                .isInstanceOf(OrtException.class);
    }

    @Test
    void zeroIntraOpThreadsStartsAThreadPerAvailableCoreBesideTheCaller() throws Exception {
        Path tasks = Path.of("/proc/self/task");
        Assumptions.assumeTrue(Files.isDirectory(tasks), "counts threads through /proc");
        int cores = OrtSessionFactory.availableCores();
        assertThat(threadsStartedBy(() -> factory.open(model, ExecutionDevice.parse("cpu"), 0)))
                .isEqualTo(threadsStartedBy(() -> factory.open(model, ExecutionDevice.parse("cpu"), cores)))
                .isEqualTo(cores - 1); // ONNX Runtime's pool: the calling thread is the other one
    }

    /** The native threads alive while the opened session is (JIT compiler threads, which come and go, aside). */
    private static long threadsStartedBy(SessionOpener opener) throws Exception {
        long before = threads();
        try (var session = opener.open().session()) {
            return threads() - before;
        }
    }

    private static long threads() throws IOException {
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            return tasks.filter(task -> {
                try {
                    String name = Files.readString(task.resolve("comm"));
                    return !name.startsWith("C1 ") && !name.startsWith("C2 ");
                } catch (IOException e) {
                    return false; // ended meanwhile
                }
            }).count();
        }
    }

    private interface SessionOpener {
        OrtSessionFactory.OpenedSession open() throws OrtException;
    }

    @Test
    void deviceSettingIsParsedStrictly() {
        assertThat(ExecutionDevice.parse("CUDA:1")).isEqualTo(new ExecutionDevice(ExecutionDevice.Kind.CUDA, 1));
        assertThat(ExecutionDevice.parse(null).kind()).isEqualTo(ExecutionDevice.Kind.AUTO);
        assertThatThrownBy(() -> ExecutionDevice.parse("gpu")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ExecutionDevice.parse("cuda:-1")).isInstanceOf(IllegalArgumentException.class);
    }
}

package dev.kvshare.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.kvshare.testsupport.TestModels;
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
    void deviceSettingIsParsedStrictly() {
        assertThat(ExecutionDevice.parse("CUDA:1")).isEqualTo(new ExecutionDevice(ExecutionDevice.Kind.CUDA, 1));
        assertThat(ExecutionDevice.parse(null).kind()).isEqualTo(ExecutionDevice.Kind.AUTO);
        assertThatThrownBy(() -> ExecutionDevice.parse("gpu")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ExecutionDevice.parse("cuda:-1")).isInstanceOf(IllegalArgumentException.class);
    }
}

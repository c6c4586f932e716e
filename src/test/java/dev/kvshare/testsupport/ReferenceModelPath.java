package dev.kvshare.testsupport;

import java.util.Map;

import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.MapPropertySource;

/**
 * Points {@code kvshare.model.path} at a reference export, whose directory is known only at run time. An
 * initializer class rather than a {@code @DynamicPropertySource} method in each test: Spring's context cache key
 * holds the initializer classes, so every test class with the same one shares its context.
 */
public abstract class ReferenceModelPath implements ApplicationContextInitializer<ConfigurableApplicationContext> {

    private final String model;

    ReferenceModelPath(String model) {
        this.model = model;
    }

    @Override
    public void initialize(ConfigurableApplicationContext context) {
        context.getEnvironment().getPropertySources().addFirst(new MapPropertySource("reference model " + model,
                Map.of("kvshare.model.path", TestModels.reference(model).toString())));
    }

    /** For {@link ServiceOnLlama}. */
    public static final class Llama extends ReferenceModelPath {
        public Llama() {
            super(TestModels.LLAMA);
        }
    }

    /** For {@link ServiceOnGpt2}. */
    public static final class Gpt2 extends ReferenceModelPath {
        public Gpt2() {
            super(TestModels.GPT2);
        }
    }
}

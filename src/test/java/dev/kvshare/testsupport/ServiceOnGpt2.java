package dev.kvshare.testsupport;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ContextConfiguration;

/**
 * The whole service on a random port, serving the tiny GPT-2 reference export (stacked KV, int32 ids): one Spring
 * context for every test class so annotated (see {@link ServiceOnBundledModel}); {@code @TestPropertySource} adds
 * settings.
 *
 * <p>One slot, one place in the queue and {@code Retry-After: 3}, which {@code OverloadHttpIT} fills and checks;
 * the other classes send one request at a time, so they share this context instead of one more being built.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kvshare.generation.max-concurrent=1", "kvshare.generation.max-queued=1",
        "kvshare.generation.retry-after-seconds=3"})
@ContextConfiguration(initializers = ReferenceModelPath.Gpt2.class)
public @interface ServiceOnGpt2 {
}

package dev.kvshare.testsupport;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ContextConfiguration;

/**
 * The whole service on a random port, serving the tiny Llama reference export (split fp16 KV): one Spring context
 * for every test class so annotated (see {@link ServiceOnBundledModel}); {@code @TestPropertySource} adds settings.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ContextConfiguration(initializers = ReferenceModelPath.Llama.class)
public @interface ServiceOnLlama {
}

package dev.kvshare.testsupport;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.springframework.boot.test.context.SpringBootTest;

/**
 * The whole service on a random port, serving the bundled model: one Spring context for every test class so
 * annotated, which Spring's test context cache builds (and loads the model for) once per JVM. A class that needs
 * other settings adds {@code @TestPropertySource(properties = ...)}; classes with the same extra properties share
 * a context of their own.
 *
 * <p>Generated JSON strings close at 48 characters: the bundled model is not trained on JSON and seldom writes a
 * quote, so constrained values complete within a test's {@code max_tokens}. Two API keys name tenants
 * ({@code key-hog}, {@code key-other}: {@code FairShareHttpIT}); requests without a key are anonymous as before,
 * so the other classes share this context instead of one more being built.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"kvshare.constrain.max-string-chars=48", "kvshare.prompt-cache.tenants[key-hog]=hog",
                "kvshare.prompt-cache.tenants[key-other]=other"})
public @interface ServiceOnBundledModel {
}

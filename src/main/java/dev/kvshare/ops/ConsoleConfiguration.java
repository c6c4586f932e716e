package dev.kvshare.ops;

import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.servlet.config.annotation.ResourceHandlerRegistry;
import org.springframework.web.servlet.config.annotation.ViewControllerRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * The console, {@code /console/}: plain static files (no build step) that talk to the public API. Served only
 * while {@code kvshare.console.enabled} is true (the default; the Helm chart turns it off), from a classpath
 * folder that Spring's default static locations do not cover, so that off means absent.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "kvshare.console.enabled", havingValue = "true", matchIfMissing = true)
class ConsoleConfiguration implements WebMvcConfigurer {

    static final String PATH = "/console/";

    @Override
    public void addResourceHandlers(ResourceHandlerRegistry registry) {
        registry.addResourceHandler(PATH + "**").addResourceLocations("classpath:/kvshare/console/");
    }

    @Override
    public void addViewControllers(ViewControllerRegistry registry) {
        registry.addRedirectViewController("/console", PATH);
        registry.addViewController(PATH).setViewName("forward:" + PATH + "index.html");
    }
}

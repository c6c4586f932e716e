package dev.kvshare;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

@SpringBootApplication
@ConfigurationPropertiesScan
public class KvshareApplication {

    public static void main(String[] args) {
        SpringApplication.run(KvshareApplication.class, args);
    }
}

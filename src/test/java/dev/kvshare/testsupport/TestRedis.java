package dev.kvshare.testsupport;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import redis.embedded.RedisServer;
import redis.embedded.core.ExecutableProvider;

/**
 * A real redis-server on 127.0.0.1 for tests: the one on PATH when there is one, else the binary the
 * embedded-redis jar ships. No persistence. It keeps its port across {@link #stop()} and
 * {@link #start()}, so fault tests can take Redis away mid-run and bring it back where clients expect it.
 */
public final class TestRedis implements AutoCloseable {

    private static final String HOST = "127.0.0.1";
    private static final int EMBEDDED_MAJOR_VERSION = 6;

    private final int port;
    private final List<String> settings;
    private RedisServer server;

    public TestRedis() {
        this(freePort(), List.of());
    }

    /** A server on a given port with extra redis.conf settings (e.g. cluster mode). */
    TestRedis(int port, List<String> settings) {
        this.port = port;
        this.settings = List.copyOf(settings);
    }

    public synchronized TestRedis start() {
        if (isRunning()) {
            return this;
        }
        try {
            var builder = RedisServer.newRedisServer()
                    .executableProvider(executable())
                    .bind(HOST)
                    .port(port)
                    .setting("save \"\"")
                    .setting("appendonly no");
            versionSettings().forEach(builder::setting);
            settings.forEach(builder::setting);
            server = builder.build();
            server.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start redis-server on port " + port, e);
        }
        return this;
    }

    public synchronized void stop() {
        if (server == null) {
            return;
        }
        try {
            server.stop();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stop redis-server on port " + port, e);
        } finally {
            server = null;
        }
    }

    public String host() {
        return HOST;
    }

    public int port() {
        return port;
    }

    public synchronized boolean isRunning() {
        return server != null && server.isActive();
    }

    @Override
    public void close() {
        stop();
    }

    /**
     * What this server version needs for the tests: Redis 7 refuses DEBUG (the fault tests stall Redis with
     * DEBUG SLEEP) unless enabled, and the setting does not exist before 7.
     */
    static List<String> versionSettings() {
        return serverMajorVersion() >= 7 ? List.of("enable-debug-command yes") : List.of();
    }

    /** The major version of the redis-server on PATH; the embedded binary is 6.2. */
    private static int serverMajorVersion() {
        try {
            Process process = new ProcessBuilder("redis-server", "--version").redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            process.waitFor();
            Matcher version = Pattern.compile("v=(\\d+)\\.").matcher(output);
            return version.find() ? Integer.parseInt(version.group(1)) : EMBEDDED_MAJOR_VERSION;
        } catch (IOException e) {
            return EMBEDDED_MAJOR_VERSION; // not on PATH: the embedded binary runs
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return EMBEDDED_MAJOR_VERSION;
        }
    }

    static ExecutableProvider executable() {
        try {
            return ExecutableProvider.newExecutableInPath("redis-server");
        } catch (FileNotFoundException notOnPath) {
            return ExecutableProvider.newJarResourceProvider();
        }
    }

    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on " + HOST, e);
        }
    }
}

package dev.kvshare.api;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import org.apache.coyote.AbstractProcessor;
import org.apache.coyote.http11.Http11NioProtocol;
import org.apache.tomcat.util.net.SocketEvent;
import org.apache.tomcat.util.net.SocketWrapperBase;

/**
 * Tomcat's NIO HTTP/1.1 protocol with a deadline on a request's headers. Tomcat bounds each wait for the next
 * header bytes ({@code server.tomcat.connection-timeout}) but not the whole, so a client sending a header line
 * every few seconds (slowloris) would keep its connection for ever. Once a second, a connection still reading
 * the headers of a request begun more than {@code kvshare.limits.request-read-timeout} ago is handed to a
 * worker as failed, which closes it as Tomcat's poller closes a connection whose read timed out.
 */
public class HeaderDeadlineProtocol extends Http11NioProtocol {

    private volatile long deadlineNanos = Duration.ofSeconds(30).toNanos();
    private ScheduledFuture<?> sweep;

    void setRequestReadTimeout(Duration timeout) {
        this.deadlineNanos = timeout.toNanos();
    }

    @Override
    public void start() throws Exception {
        super.start();
        sweep = getUtilityExecutor().scheduleWithFixedDelay(this::closeSlowHeaders, 1, 1, TimeUnit.SECONDS);
    }

    @Override
    public void stop() throws Exception {
        if (sweep != null) {
            sweep.cancel(false);
        }
        super.stop();
    }

    private void closeSlowHeaders() {
        long now = System.nanoTime();
        for (SocketWrapperBase<?> connection : getEndpoint().getConnections()) {
            // Between two reads of a request's headers a connection keeps its processor, which is neither
            // asynchronous (a streamed response, or a body read by NonBlockingBodyFilter) nor upgraded; idle
            // keep-alive connections have none, and one being served on a worker thread has lent it out.
            if (connection.getCurrentProcessor() instanceof AbstractProcessor processor && !processor.isAsync()
                    && !processor.isUpgrade()) {
                long started = processor.getRequest().getStartTimeNanos();
                if (started > 0 && now - started > deadlineNanos) {
                    connection.processSocket(SocketEvent.ERROR, true); // as the poller closes a timed-out one
                }
            }
        }
    }
}

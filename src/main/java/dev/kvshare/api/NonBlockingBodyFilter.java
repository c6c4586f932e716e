package dev.kvshare.api;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads a request's body without holding a worker thread, within {@code kvshare.limits.request-read-timeout}.
 * The bytes arrive through a {@link ReadListener} (Tomcat's poller waits for them, no thread does); once all
 * have arrived the request is dispatched again, its body buffered, to the rest of the chain. A client sending
 * its body a byte at a time so holds a connection but no thread, and at the deadline gets 408 and its
 * connection closed. Registered after every other filter, so that they see each request once, on its first
 * dispatch; the body's size is still bounded by {@link RequestBodyLimitFilter}, which wraps the stream read here.
 */
class NonBlockingBodyFilter implements Filter {

    private static final Logger log = LoggerFactory.getLogger(NonBlockingBodyFilter.class);
    private static final String BODY = NonBlockingBodyFilter.class.getName() + ".body";

    private final Duration timeout;
    private final JsonMapper json;

    NonBlockingBodyFilter(Duration timeout, JsonMapper json) {
        this.timeout = timeout;
        this.json = json;
    }

    @Override
    public void doFilter(ServletRequest servletRequest, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        HttpServletRequest request = (HttpServletRequest) servletRequest;
        if (request.getDispatcherType() == DispatcherType.ASYNC && request.getAttribute(BODY) instanceof byte[] body) {
            request.removeAttribute(BODY);
            chain.doFilter(new BufferedBody(request, body), response);
        } else if (request.getDispatcherType() == DispatcherType.REQUEST && request.isAsyncSupported()
                && (request.getContentLengthLong() > 0 || request.getHeader(HttpHeaders.TRANSFER_ENCODING) != null)) {
            AsyncContext async = request.startAsync(request, response);
            async.setTimeout(timeout.toMillis());
            ServletInputStream in = request.getInputStream();
            BodyReader reader = new BodyReader(async, request, (HttpServletResponse) response, in);
            async.addListener(reader);
            in.setReadListener(reader);
        } else {
            chain.doFilter(request, response);
        }
    }

    /** Collects one body; the first of "all read", "failed" and "timed out" decides what happens. */
    private final class BodyReader implements ReadListener, AsyncListener {

        private final AsyncContext async;
        private final HttpServletRequest request;
        private final HttpServletResponse response;
        private final ServletInputStream in;
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();
        private final byte[] buffer = new byte[16 * 1024];
        private final AtomicBoolean decided = new AtomicBoolean();

        BodyReader(AsyncContext async, HttpServletRequest request, HttpServletResponse response,
                   ServletInputStream in) {
            this.async = async;
            this.request = request;
            this.response = response;
            this.in = in;
        }

        @Override
        public void onDataAvailable() throws IOException {
            try {
                while (in.isReady()) {
                    int n = in.read(buffer);
                    if (n < 0) {
                        return;
                    }
                    body.write(buffer, 0, n);
                }
            } catch (RequestTooLargeException e) {
                fail(e);
            }
        }

        @Override
        public void onAllDataRead() {
            if (decided.compareAndSet(false, true)) {
                request.setAttribute(BODY, body.toByteArray());
                async.dispatch();
            }
        }

        @Override
        public void onError(Throwable failure) {
            fail(failure);
        }

        @Override
        public void onTimeout(AsyncEvent event) throws IOException {
            if (decided.compareAndSet(false, true)) {
                answer(HttpStatus.REQUEST_TIMEOUT, OpenAiError.of("The request body did not arrive within "
                        + timeout.toMillis() + " ms; see kvshare.limits.request-read-timeout", "invalid_request_error",
                        null, "request_timeout"));
            }
        }

        /** A body too large is answered 413; a connection that failed mid-body has nobody to answer. */
        private void fail(Throwable failure) {
            if (!decided.compareAndSet(false, true)) {
                return;
            }
            try {
                if (failure instanceof RequestTooLargeException) {
                    OpenAiErrors.Mapped mapped = OpenAiErrors.map(failure);
                    answer(mapped.status(), mapped.body());
                } else {
                    log.debug("The connection failed while its request body was read: {}", failure.toString());
                    async.complete();
                }
            } catch (IOException | IllegalStateException e) {
                async.complete(); // the client is gone
            }
        }

        private void answer(HttpStatusCode status, OpenAiError error) throws IOException {
            response.setStatus(status.value());
            response.setHeader(HttpHeaders.CONNECTION, "close"); // the rest of the body is not waited for
            response.setContentType(MediaType.APPLICATION_JSON_VALUE);
            json.writeValue(response.getOutputStream(), error);
            async.complete();
        }

        @Override
        public void onComplete(AsyncEvent event) {
        }

        @Override
        public void onError(AsyncEvent event) {
            fail(event.getThrowable());
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            // the request's handler started its own asynchronous response: this listener's work is done
        }
    }

    /** The request with its body read already. */
    private static final class BufferedBody extends HttpServletRequestWrapper {

        private final byte[] body;

        BufferedBody(HttpServletRequest request, byte[] body) {
            super(request);
            this.body = body;
        }

        @Override
        public ServletInputStream getInputStream() {
            ByteArrayInputStream bytes = new ByteArrayInputStream(body);
            return new ServletInputStream() {
                @Override
                public int read() {
                    return bytes.read();
                }

                @Override
                public int read(byte[] buffer, int offset, int length) {
                    return bytes.read(buffer, offset, length);
                }

                @Override
                public boolean isFinished() {
                    return bytes.available() == 0;
                }

                @Override
                public boolean isReady() {
                    return true;
                }

                @Override
                public void setReadListener(ReadListener listener) {
                    throw new IllegalStateException("The body was read already");
                }
            };
        }
    }
}

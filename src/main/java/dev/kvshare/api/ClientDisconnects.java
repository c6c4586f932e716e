package dev.kvshare.api;

import java.io.EOFException;
import java.io.IOException;
import java.util.concurrent.CancellationException;

import dev.kvshare.generation.GenerationCancelledException;
import org.springframework.web.context.request.async.AsyncRequestNotUsableException;

/**
 * Recognises a client that went away: a normal event for a server (a user closes the tab, a scraper reads
 * only the first lines), logged at DEBUG and counted, never an ERROR with a stack trace.
 */
final class ClientDisconnects {

    private ClientDisconnects() {
    }

    static boolean isDisconnect(Throwable failure) {
        for (Throwable e = failure; e != null; e = e.getCause()) {
            if (e instanceof GenerationCancelledException || e instanceof CancellationException
                    || e instanceof AsyncRequestNotUsableException || e instanceof EOFException
                    || e.getClass().getName().equals("org.apache.catalina.connector.ClientAbortException")
                    || (e instanceof IOException && brokenConnection(e.getMessage()))) {
                return true;
            }
        }
        return false;
    }

    private static boolean brokenConnection(String message) {
        return message != null && (message.contains("Broken pipe") || message.contains("Connection reset"));
    }
}

package dev.kvshare.api;

import java.io.IOException;
import java.io.Writer;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;
import tools.jackson.databind.json.JsonMapper;

/**
 * Tomcat's own error page, for what fails before a request reaches Spring (oversized headers, a malformed
 * request line or URI): an OpenAI error body instead of an HTML page with the server's version and a stack.
 */
public class JsonErrorReportValve extends ErrorReportValve {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Override
    protected void report(Request request, Response response, Throwable throwable) {
        int status = response.getStatus();
        if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
            return;
        }
        try {
            response.setContentType("application/json");
            response.setCharacterEncoding("UTF-8");
            Writer writer = response.getReporter();
            if (writer != null) {
                String type = status >= 500 ? "server_error" : "invalid_request_error";
                writer.write(JSON.writeValueAsString(OpenAiError.of(message(status), type, null, null)));
                response.finishResponse();
            }
        } catch (IOException | IllegalStateException e) {
            // The client is gone or the response is committed: nothing more can be said.
        }
    }

    private static String message(int status) {
        return switch (status) {
            case 400 -> "The request could not be parsed (malformed request line, URI or headers)";
            case 413 -> "The request is larger than this server accepts";
            case 431 -> "The request's headers are larger than this server accepts";
            default -> "The request failed with HTTP status " + status;
        };
    }
}

package dev.kvshare.testsupport;

/** A test's short wait between two polls, for code that cannot throw {@link InterruptedException} (lambdas). */
public final class Pause {

    private Pause() {
    }

    /** Sleeps {@code millis}; an interrupt keeps the thread's flag and fails the test. */
    public static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}

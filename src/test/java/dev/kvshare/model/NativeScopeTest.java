package dev.kvshare.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class NativeScopeTest {

    private final List<String> closed = new ArrayList<>();

    /** A resource that records its close, and throws {@code failure} from it if one is given. */
    private AutoCloseable resource(String name, Exception failure) {
        return () -> {
            closed.add(name);
            if (failure != null) {
                throw failure;
            }
        };
    }

    private AutoCloseable resource(String name) {
        return resource(name, null);
    }

    @Test
    void closesWhatItTracksInReverseOrder() {
        try (NativeScope scope = new NativeScope()) {
            scope.track(resource("session"));
            scope.track(resource("cache"));
            scope.track(resource("logits"));
        }
        assertThat(closed).containsExactly("logits", "cache", "session");
    }

    @Test
    void closesEverythingWhenClosesThrowAndReportsEveryFailure() {
        IllegalStateException first = new IllegalStateException("logits");
        Exception second = new Exception("session");
        NativeScope scope = new NativeScope();
        scope.track(resource("session", second));
        scope.track(resource("cache"));
        scope.track(resource("logits", first));

        assertThatThrownBy(scope::close).isSameAs(first);
        assertThat(closed).containsExactly("logits", "cache", "session");
        assertThat(first.getSuppressed()).containsExactly(second);
    }

    @Test
    void aCheckedFailureIsWrapped() {
        Exception failure = new Exception("session");
        NativeScope scope = new NativeScope();
        scope.track(resource("session", failure));

        assertThatThrownBy(scope::close).isInstanceOf(IllegalStateException.class).hasCause(failure);
    }

    @Test
    void aDetachedResourceIsTheCallersAndATransferredOneTheOtherScopes() {
        AutoCloseable kept = resource("kept");
        AutoCloseable moved = resource("moved");
        try (NativeScope batch = new NativeScope()) {
            try (NativeScope sequence = new NativeScope()) {
                assertThat(sequence.detach(sequence.track(kept))).isSameAs(kept);
                assertThat(sequence.transferTo(batch, sequence.track(moved))).isSameAs(moved);
            }
            assertThat(closed).isEmpty();
            assertThatThrownBy(() -> batch.detach(kept)).isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(closed).containsExactly("moved");
    }

    @Test
    void replaceClosesThePreviousResourceAtOnce() {
        try (NativeScope scope = new NativeScope()) {
            AutoCloseable first = scope.track(resource("first"));
            AutoCloseable second = scope.replace(first, resource("second"));
            assertThat(closed).containsExactly("first");
            scope.close(second);
            assertThat(closed).containsExactly("first", "second");
        }
        assertThat(closed).as("nothing closes twice").containsExactly("first", "second");
    }

    @Test
    void aClosedScopeClosesWhatItIsGiven() {
        NativeScope scope = new NativeScope();
        scope.close();

        assertThatThrownBy(() -> scope.track(resource("late"))).isInstanceOf(IllegalStateException.class);
        assertThat(closed).containsExactly("late");
        scope.close();
        assertThat(closed).containsExactly("late");
    }
}

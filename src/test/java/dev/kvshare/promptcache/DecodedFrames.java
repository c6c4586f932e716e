package dev.kvshare.promptcache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kvshare.promptcache.KvCodec.Decoded;

/** What the codec tests ask of a decoded frame, and how they damage one. */
final class DecodedFrames {

    private DecodedFrames() {
    }

    static KvBlock accepted(Decoded decoded) {
        assertThat(decoded).isInstanceOf(Decoded.Accepted.class);
        return ((Decoded.Accepted) decoded).block();
    }

    static RejectReason rejected(Decoded decoded) {
        assertThat(decoded).isInstanceOf(Decoded.Rejected.class);
        return ((Decoded.Rejected) decoded).reason();
    }

    /** Flips the lowest bit of one byte, in place. */
    static byte[] flip(byte[] frame, int offset) {
        frame[offset] ^= 1;
        return frame;
    }
}

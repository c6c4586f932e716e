package dev.kvshare.model;

/** One message of a conversation, as a chat template sees it: {@code {"role": ..., "content": ...}}. */
public record ChatTurn(String role, String content) {
}

package dev.kvshare.generation;

import java.util.List;

import dev.kvshare.model.ChatTurn;

/**
 * Refuses chat messages beyond the configured sizes ({@code kvshare.limits}) before they are rendered or
 * tokenized. Implemented by the API, which owns the limits; here so that the console, which also takes a
 * prompt from a client, checks the same limits without depending on the API.
 */
public interface ChatLimits {

    /** @throws InvalidRequestException when the messages are too many or too long */
    void checkChat(List<ChatTurn> turns);
}

package dev.kvshare.api;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.kvshare.model.ChatTurn;
import dev.kvshare.model.ServedModel;
import dev.kvshare.model.Tokenizer;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /tokenize} and {@code POST /detokenize} in the shapes vLLM and llama.cpp serve, so that their
 * clients work unchanged and an operator can see how long a system prompt is and where its blocks end. Inputs
 * are bounded like the generation endpoints': {@code kvshare.limits.*}, and never more than the context.
 */
@RestController
class TokenizeController {

    /** vLLM's answer; llama.cpp clients read the same {@code tokens}. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Tokens(int count, @JsonProperty("max_model_len") int maxModelLength, int[] tokens,
                  @JsonProperty("token_strs") List<String> tokenStrs) {
    }

    /** {@code tokens}, with the text as both vLLM ({@code prompt}) and llama.cpp ({@code content}) name it. */
    record DetokenizeRequest(String model, List<Integer> tokens) {
    }

    record Text(String prompt, String content) {
    }

    private final ServedModel model;
    private final RequestPrompts prompts;
    private final RequestLimits limits;
    private final ToolRequests toolRequests;

    TokenizeController(ServedModel model, RequestPrompts prompts, RequestLimits limits, ToolRequests toolRequests) {
        this.model = model;
        this.prompts = prompts;
        this.limits = limits;
        this.toolRequests = toolRequests;
    }

    @PostMapping("/tokenize")
    Tokens tokenize(@RequestBody TokenizeRequest request) {
        checkModel(request.model());
        int[] ids = ids(request);
        boolean strs = Boolean.TRUE.equals(request.returnTokenStrs()) || Boolean.TRUE.equals(request.withPieces());
        return new Tokens(ids.length, model.config().contextLength(), ids, strs ? pieces(ids) : null);
    }

    @PostMapping("/detokenize")
    Text detokenize(@RequestBody DetokenizeRequest request) {
        checkModel(request.model());
        if (request.tokens() == null) {
            throw new InvalidRequestException("tokens must be an array of token ids", "tokens");
        }
        int context = model.config().contextLength();
        if (request.tokens().size() > context) {
            throw new InvalidRequestException("At most " + context + " tokens (the context) can be detokenized, not "
                    + request.tokens().size(), "tokens");
        }
        int[] ids = prompts.tokenIds(request.tokens(), "tokens");
        String text = model.tokenizer().decode(ids, 0, ids.length);
        return new Text(text, text);
    }

    private int[] ids(TokenizeRequest request) {
        int inputs = (request.prompt() != null ? 1 : 0) + (request.content() != null ? 1 : 0)
                + (request.messages() != null ? 1 : 0);
        if (inputs != 1) {
            throw new InvalidRequestException("Give exactly one of prompt, content or messages", "prompt");
        }
        if (request.messages() != null) {
            if (Boolean.FALSE.equals(request.addGenerationPrompt())) {
                throw new InvalidRequestException("Only add_generation_prompt: true is supported: prompts end with "
                        + "the assistant's turn as the chat endpoint renders them", "add_generation_prompt");
            }
            List<ChatTurn> turns = ChatTurns.of(request.messages());
            limits.checkChat(turns);
            ToolUse tools = toolRequests.of(request.tools(), null, null);
            return prompts.messages(turns, tools.templateTools(), tools.format());
        }
        if (request.tools() != null) {
            throw new InvalidRequestException("tools are rendered into a chat prompt: give messages with them",
                    "tools");
        }
        String text = request.prompt() != null ? request.prompt() : request.content();
        limits.checkPrompt(text);
        boolean special = request.addSpecialTokens() != null ? request.addSpecialTokens()
                : request.addSpecial() == null || request.addSpecial();
        return prompts.text(text, special);
    }

    private List<String> pieces(int[] ids) {
        Tokenizer tokenizer = model.tokenizer();
        List<String> pieces = new ArrayList<>(ids.length);
        for (int i = 0; i < ids.length; i++) {
            pieces.add(tokenizer.decode(ids, i, i + 1));
        }
        return pieces;
    }

    private void checkModel(String requested) {
        if (requested != null && !requested.equals(model.name())) {
            throw new UnknownModelException(requested);
        }
    }
}

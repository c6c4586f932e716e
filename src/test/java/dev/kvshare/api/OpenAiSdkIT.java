package dev.kvshare.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.models.Model;
import dev.kvshare.testsupport.ServiceOnLlama;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;

/** The official OpenAI Java SDK, unchanged, as a client of the service. */
@ServiceOnLlama
class OpenAiSdkIT {

    private static final String MODEL = "tiny-random-llama-fp16";


    @LocalServerPort
    int port;

    private OpenAIClient client() {
        return OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + port + "/v1").apiKey("not-checked")
                .maxRetries(0).build();
    }

    private ChatCompletionCreateParams params(String question) {
        return ChatCompletionCreateParams.builder()
                .model(MODEL)
                .addSystemMessage("You are a support agent.")
                .addUserMessage(question)
                .maxCompletionTokens(10)
                .temperature(0.0)
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true))
                .build();
    }

    @Test
    void chatCompletionParsesWithUsageAndCachedTokens() {
        ChatCompletion completion = client().chat().completions().create(params("Where is my parcel?"));
        assertThat(completion.model()).isEqualTo(MODEL);
        assertThat(completion.choices()).hasSize(1);
        assertThat(completion.choices().get(0).message().content()).isPresent();
        assertThat(completion.choices().get(0).finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.LENGTH);
        var usage = completion.usage().orElseThrow();
        assertThat(usage.completionTokens()).isEqualTo(10);
        assertThat(usage.promptTokensDetails().orElseThrow().cachedTokens()).contains(0L);
    }

    @Test
    void streamingGivesTheSameTextAsTheWholeCompletion() {
        String whole = client().chat().completions().create(params("I was charged twice"))
                .choices().get(0).message().content().orElseThrow();
        StringBuilder streamed = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> stream = client().chat().completions()
                .createStreaming(params("I was charged twice"))) {
            stream.stream().forEach(chunk -> chunk.choices()
                    .forEach(choice -> choice.delta().content().ifPresent(streamed::append)));
        }
        assertThat(streamed.toString()).isEqualTo(whole);
    }

    @Test
    void modelsAndErrorsAreReadByTheSdk() {
        List<Model> models = client().models().list().data();
        assertThat(models).extracting(Model::id).containsExactly(MODEL);
        var bad = params("hi").toBuilder().model("gpt-4o").build();
        assertThatThrownBy(() -> client().chat().completions().create(bad))
                .isInstanceOf(BadRequestException.class)
                .hasMessageContaining("gpt-4o");
    }
}

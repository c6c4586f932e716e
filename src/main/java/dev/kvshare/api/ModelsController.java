package dev.kvshare.api;

import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.kvshare.generation.GenerationService;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** {@code GET /v1/models}: the one model this instance serves. */
@RestController
class ModelsController {

    record ModelList(String object, List<ModelCard> data) {
    }

    record ModelCard(String id, String object, long created, @JsonProperty("owned_by") String ownedBy,
                     @JsonProperty("max_model_len") int maxModelLength) {
    }

    private final GenerationService generation;
    private final long loadedAt = Instant.now().getEpochSecond();

    ModelsController(GenerationService generation) {
        this.generation = generation;
    }

    @GetMapping("/v1/models")
    ModelList models() {
        var model = generation.model();
        return new ModelList("list", List.of(new ModelCard(model.name(), "model", loadedAt, "kvshare",
                model.config().contextLength())));
    }
}

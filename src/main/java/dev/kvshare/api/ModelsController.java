package dev.kvshare.api;

import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.kvshare.model.ServedModel;
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

    private final ServedModel model;
    private final long loadedAt = Instant.now().getEpochSecond();

    ModelsController(ServedModel model) {
        this.model = model;
    }

    @GetMapping("/v1/models")
    ModelList models() {
        return new ModelList("list", List.of(new ModelCard(model.name(), "model", loadedAt, "kvshare",
                model.config().contextLength())));
    }
}

package dev.kvshare.config;

import dev.kvshare.constrain.ConstraintProperties;
import dev.kvshare.constrain.Grammars;
import dev.kvshare.constrain.TokenIndex;
import dev.kvshare.constrain.TokenVocabulary;
import dev.kvshare.model.ServedModel;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Constrained decoding for the served model: its vocabulary's token index, built once at start-up. */
@Configuration(proxyBeanMethods = false)
public class ConstrainConfiguration {

    @Bean
    Grammars grammars(ServedModel model, ConstraintProperties properties) {
        TokenVocabulary vocabulary = TokenVocabulary.load(model.files().tokenizer(), model.decoder().io().vocabSize());
        return new Grammars(TokenIndex.of(vocabulary, model.config().eosTokenIds()), properties);
    }
}

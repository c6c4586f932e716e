package dev.kvshare.model;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Loads a model directory (docs/models.md, "Accepted layouts") into a {@link ServedModel}. */
public final class ModelLoader {

    private static final Logger log = LoggerFactory.getLogger(ModelLoader.class);

    private final OrtSessionFactory sessions;
    private final OrtEnvironment env;

    public ModelLoader(OrtEnvironment env) {
        this(env, new OrtSessionFactory(env));
    }

    ModelLoader(OrtEnvironment env, OrtSessionFactory sessions) {
        this.env = env;
        this.sessions = sessions;
    }

    /**
     * Whatever fails after the tokenizer was loaded, the natives loaded so far (tokenizer, session, decoder) are
     * closed: they live in the load's scope until the returned model takes them.
     *
     * @param defaultName the model id when {@code kvshare.model.name} is unset
     */
    public ServedModel load(Path directory, ModelProperties properties, String defaultName) {
        ModelConfig config = ModelConfig.read(directory);
        ModelFiles files = ModelFiles.in(directory, properties.file(), config.genaiDecoderFile());
        TokenizerConfig tokenizerConfig = TokenizerConfig.read(files.tokenizerConfigJson());
        Tokenizer tokenizer = Tokenizer.load(files.tokenizer());
        try (NativeScope loading = new NativeScope()) {
            loading.track(tokenizer);
            config = withTokenizerEos(config, tokenizer, tokenizerConfig);
            if (properties.contextLength() > 0) {
                config = config.withContextLength(properties.contextLength());
            }
            var opened = sessions.open(files.onnxFile(), ExecutionDevice.parse(properties.device()),
                    properties.intraOpThreads());
            OrtSession session = loading.track(opened.session());
            DecoderIo io = DecoderIo.detect(session.getInputInfo(), session.getOutputInfo(), config.headDimensions());
            DecoderModel decoder = loading.track(new DecoderModel(env, loading.detach(session), io,
                    properties.prefillChunk()));
            String name = properties.name() != null && !properties.name().isBlank() ? properties.name() : defaultName;
            log.info("Loaded model '{}' from {} on {}: {} layout, {} layers, {} KV heads, head dim {}, KV {}, "
                            + "context {}", name, files.onnxFile(), opened.executionProvider(), io.kv().layout(),
                    io.kv().layers(), io.kv().kvHeads(), io.kv().headDim(), io.kv().dtype(), config.contextLength());
            ChatTemplate chatTemplate = ChatTemplate.of(tokenizerConfig);
            if (chatTemplate.isFallback()) {
                log.info("{} has no chat template in tokenizer_config.json; chats are rendered as ChatML", name);
            }
            ChatPromptEncoder chatPrompts = new ChatPromptEncoder(chatTemplate, tokenizer,
                    properties.allowSpecialTokensInContent());
            ServedModel model = new ServedModel(name, files, config, decoder, tokenizer, chatPrompts,
                    opened.executionProvider());
            loading.detach(decoder);
            loading.detach(tokenizer);
            return model;
        } catch (OrtException | RuntimeException e) {
            if (e instanceof UnsupportedModelException unsupported) {
                throw unsupported;
            }
            throw new UnsupportedModelException("Cannot load the model in " + directory + ": " + e.getMessage(), e);
        }
    }

    /** The tokenizer's EOS token ends generation too, whatever the config files say. */
    private static ModelConfig withTokenizerEos(ModelConfig config, Tokenizer tokenizer, TokenizerConfig tc) {
        Set<Integer> ids = new HashSet<>();
        tokenizer.tokenId(tc.eosToken()).ifPresent(ids::add);
        return config.withEosTokenIds(ids);
    }
}

package dev.kvshare.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.TensorInfo;

/**
 * The input/output contract of a decoder export, read from the session's own metadata rather than
 * guessed from the model's name.
 *
 * @param pastInputs      past KV input names, in the order the {@link KvCache} holds its tensors
 * @param presentOutputs  the matching present output names, same order
 */
public record DecoderIo(
        OnnxJavaType idType,
        Optional<OnnxJavaType> attentionMaskType,
        Optional<OnnxJavaType> positionIdsType,
        boolean useCacheBranch,
        boolean numLogitsToKeep,
        OnnxJavaType logitsType,
        int vocabSize,
        KvSpec kv,
        List<String> pastInputs,
        List<String> presentOutputs) {

    static final String INPUT_IDS = "input_ids";
    static final String ATTENTION_MASK = "attention_mask";
    static final String POSITION_IDS = "position_ids";
    static final String USE_CACHE_BRANCH = "use_cache_branch";
    static final String NUM_LOGITS_TO_KEEP = "num_logits_to_keep";
    static final String LOGITS = "logits";

    private static final Pattern SPLIT_PAST = Pattern.compile("past_key_values\\.(\\d+)\\.(key|value)");
    private static final Pattern STACKED_PAST = Pattern.compile("past_(\\d+)");

    /**
     * Detects the layout.
     *
     * @param fallback KV heads and head size from the model's config files, used only where the export
     *                 leaves those dimensions symbolic
     */
    public static DecoderIo detect(Map<String, NodeInfo> inputs, Map<String, NodeInfo> outputs,
                                   HeadDimensions fallback) {
        TensorInfo ids = tensor(inputs, INPUT_IDS).orElseThrow(() -> unsupported("it has no input_ids input"));
        TensorInfo logits = tensor(outputs, LOGITS).orElseThrow(() -> unsupported("it has no logits output"));
        if (ids.type != OnnxJavaType.INT32 && ids.type != OnnxJavaType.INT64) {
            throw unsupported("input_ids is " + ids.type + ", not int32 or int64");
        }
        long vocab = logits.getShape()[logits.getShape().length - 1];
        if (vocab <= 0) {
            throw unsupported("the vocabulary dimension of logits is not fixed");
        }
        PastInputs past = PastInputs.find(inputs);
        List<String> presents = past.presentNames();
        for (String present : presents) {
            if (!outputs.containsKey(present)) {
                throw unsupported("it has past input(s) but no output named " + present);
            }
        }
        TensorInfo first = tensor(inputs, past.names().get(0)).orElseThrow();
        KvSpec kv = past.spec(first, fallback);
        return new DecoderIo(ids.type,
                tensor(inputs, ATTENTION_MASK).map(t -> t.type),
                tensor(inputs, POSITION_IDS).map(t -> t.type),
                inputs.containsKey(USE_CACHE_BRANCH),
                inputs.containsKey(NUM_LOGITS_TO_KEEP),
                logits.type, (int) vocab, kv, past.names(), presents);
    }

    private static Optional<TensorInfo> tensor(Map<String, NodeInfo> nodes, String name) {
        NodeInfo node = nodes.get(name);
        return node != null && node.getInfo() instanceof TensorInfo info ? Optional.of(info) : Optional.empty();
    }

    static UnsupportedModelException unsupported(String why) {
        return new UnsupportedModelException("Not a decoder export with explicit past KV: " + why);
    }

    /** KV dimensions from config.json or genai_config.json; zero where unknown. */
    public record HeadDimensions(int kvHeads, int headDim) {
        public static final HeadDimensions UNKNOWN = new HeadDimensions(0, 0);
    }

    /** The past inputs grouped by layer, in layer order. */
    private record PastInputs(KvLayout layout, List<String> names, int layers) {

        static PastInputs find(Map<String, NodeInfo> inputs) {
            TreeMap<Integer, List<String>> split = new TreeMap<>();
            TreeMap<Integer, List<String>> stacked = new TreeMap<>();
            for (String name : inputs.keySet()) {
                Matcher s = SPLIT_PAST.matcher(name);
                Matcher t = STACKED_PAST.matcher(name);
                if (s.matches()) {
                    split.computeIfAbsent(Integer.parseInt(s.group(1)), k -> new ArrayList<>()).add(name);
                } else if (t.matches()) {
                    stacked.computeIfAbsent(Integer.parseInt(t.group(1)), k -> new ArrayList<>()).add(name);
                }
            }
            if (!split.isEmpty()) {
                return ordered(KvLayout.SPLIT, split);
            }
            if (!stacked.isEmpty()) {
                return ordered(KvLayout.STACKED, stacked);
            }
            throw unsupported("no past_key_values.N.key/value or past_N inputs were found");
        }

        private static PastInputs ordered(KvLayout layout, TreeMap<Integer, List<String>> byLayer) {
            if (byLayer.firstKey() != 0 || byLayer.lastKey() != byLayer.size() - 1) {
                throw unsupported("past layers are not numbered 0.." + (byLayer.size() - 1));
            }
            List<String> names = new ArrayList<>();
            for (var entry : byLayer.entrySet()) {
                int layer = entry.getKey();
                if (layout == KvLayout.SPLIT) {
                    if (entry.getValue().size() != 2) {
                        throw unsupported("layer " + layer + " lacks a key or a value input");
                    }
                    names.add("past_key_values." + layer + ".key");
                    names.add("past_key_values." + layer + ".value");
                } else {
                    names.add("past_" + layer);
                }
            }
            return new PastInputs(layout, List.copyOf(names), byLayer.size());
        }

        List<String> presentNames() {
            return names.stream()
                    .map(name -> layout == KvLayout.SPLIT
                            ? name.replace("past_key_values.", "present.")
                            : name.replace("past_", "present_"))
                    .toList();
        }

        KvSpec spec(TensorInfo info, HeadDimensions fallback) {
            long[] shape = info.getShape();
            int headsAxis = layout == KvLayout.SPLIT ? 1 : 2;
            int headDimAxis = layout == KvLayout.SPLIT ? 3 : 4;
            if (shape.length != headDimAxis + 1) {
                throw unsupported(names.get(0) + " has rank " + shape.length + ", expected " + (headDimAxis + 1));
            }
            int kvHeads = fixedOr(shape[headsAxis], fallback.kvHeads(), "KV heads");
            int headDim = fixedOr(shape[headDimAxis], fallback.headDim(), "head size");
            OnnxJavaType dtype = info.type;
            if (dtype != OnnxJavaType.FLOAT && dtype != OnnxJavaType.FLOAT16 && dtype != OnnxJavaType.BFLOAT16) {
                throw unsupported("KV tensors are " + dtype + ", not float32, float16 or bfloat16");
            }
            return new KvSpec(layout, layers, kvHeads, headDim, dtype);
        }

        private static int fixedOr(long dimension, int fallback, String what) {
            if (dimension > 0) {
                return (int) dimension;
            }
            if (fallback > 0) {
                return fallback;
            }
            throw unsupported("the " + what + " dimension is symbolic and no config file gives it");
        }
    }
}

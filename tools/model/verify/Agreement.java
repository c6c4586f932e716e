// Greedy agreement of decoder exports with a reference export (single-file source launch, Java 17): the
// quantized layouts of a model too large for the engine's tests (docs/models.md, "Quantized exports"):
//
//   java -cp ~/.m2/repository/com/microsoft/onnxruntime/onnxruntime/1.29.0/onnxruntime-1.29.0.jar \
//        tools/model/verify/Agreement.java PROMPTS TOKENS REFERENCE.onnx CANDIDATE.onnx ...
//
// PROMPTS random 32-token prompts (seeded, ids 3..vocab-1) each decode TOKENS greedy tokens on the reference with
// its KV cache; every candidate is fed the reference's tokens (teacher forcing) and its argmax at each step is
// compared with the reference's. Prints per candidate the steps whose argmax agrees, the largest |Δlogit| and the
// largest reference logit (the scale the difference is read against). Works with last-position-only logits.
import ai.onnxruntime.*;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.*;

public class Agreement {
    static final OrtEnvironment env = OrtEnvironment.getEnvironment();
    static final int PROMPT = 32;

    /** One export decoding one sequence: its session and the presents of its last pass. */
    static final class Sequence implements AutoCloseable {
        final OrtSession session;
        OrtSession.Result last;
        int length;

        Sequence(OrtSession session) {
            this.session = session;
        }

        /** Runs the tokens after what the sequence holds; returns the last position's logits. */
        float[] run(long[] tokens) throws OrtException {
            Map<String, OnnxTensor> in = new HashMap<>();
            long[] positions = new long[tokens.length];
            for (int i = 0; i < tokens.length; i++) {
                positions[i] = length + i;
            }
            long[] mask = new long[length + tokens.length];
            Arrays.fill(mask, 1);
            List<OnnxTensor> made = new ArrayList<>();
            try {
                made.add(OnnxTensor.createTensor(env, LongBuffer.wrap(tokens), new long[] {1, tokens.length}));
                in.put("input_ids", made.get(made.size() - 1));
                made.add(OnnxTensor.createTensor(env, LongBuffer.wrap(mask), new long[] {1, mask.length}));
                in.put("attention_mask", made.get(made.size() - 1));
                if (session.getInputNames().contains("position_ids")) {
                    made.add(OnnxTensor.createTensor(env, LongBuffer.wrap(positions), new long[] {1, tokens.length}));
                    in.put("position_ids", made.get(made.size() - 1));
                }
                for (var e : session.getInputInfo().entrySet()) {
                    if (!e.getKey().startsWith("past_key_values.")) {
                        continue;
                    }
                    if (last == null) {
                        long[] shape = ((TensorInfo) e.getValue().getInfo()).getShape();
                        made.add(OnnxTensor.createTensor(env, FloatBuffer.allocate(0),
                                new long[] {1, shape[1], 0, shape[3]}));
                        in.put(e.getKey(), made.get(made.size() - 1));
                    } else {
                        String present = e.getKey().replace("past_key_values.", "present.");
                        in.put(e.getKey(), (OnnxTensor) last.get(present).orElseThrow());
                    }
                }
                OrtSession.Result result = session.run(in);
                if (last != null) {
                    last.close();
                }
                last = result;
                length += tokens.length;
                FloatBuffer logits = ((OnnxTensor) result.get("logits").orElseThrow()).getFloatBuffer();
                long[] shape = ((TensorInfo) result.get("logits").orElseThrow().getInfo()).getShape();
                int vocab = (int) shape[2];
                float[] row = new float[vocab];
                logits.position(logits.limit() - vocab);
                logits.get(row);
                return row;
            } finally {
                made.forEach(OnnxTensor::close);
            }
        }

        @Override
        public void close() {
            if (last != null) {
                last.close();
            }
        }
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    public static void main(String[] args) throws Exception {
        int prompts = Integer.parseInt(args[0]);
        int tokens = Integer.parseInt(args[1]);
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        List<OrtSession> sessions = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            sessions.add(env.createSession(args[i], so));
        }
        int n = sessions.size();
        int vocab = (int) ((TensorInfo) sessions.get(0).getOutputInfo().get("logits").getInfo()).getShape()[2];
        int[] agreeing = new int[n];
        double[] worst = new double[n];
        double largest = 0;
        int steps = 0;
        Random random = new Random(32);
        for (int p = 0; p < prompts; p++) {
            List<Sequence> sequences = new ArrayList<>();
            sessions.forEach(s -> sequences.add(new Sequence(s)));
            try {
                long[] next = new long[PROMPT];
                for (int i = 0; i < PROMPT; i++) {
                    next[i] = 3 + random.nextInt(vocab - 3);
                }
                for (int step = 0; step < tokens; step++) {
                    float[] reference = null;
                    for (int m = 0; m < n; m++) {
                        float[] logits = sequences.get(m).run(next);
                        if (m == 0) {
                            reference = logits;
                            for (float v : logits) {
                                largest = Math.max(largest, Math.abs(v));
                            }
                            continue;
                        }
                        if (argmax(logits) == argmax(reference)) {
                            agreeing[m]++;
                        }
                        for (int i = 0; i < logits.length; i++) {
                            worst[m] = Math.max(worst[m], Math.abs(logits[i] - reference[i]));
                        }
                    }
                    steps++;
                    next = new long[] {argmax(reference)};
                }
            } finally {
                sequences.forEach(Sequence::close);
            }
        }
        System.out.printf("reference %s: %d steps, logits up to %.3f%n", args[2], steps, largest);
        for (int m = 1; m < n; m++) {
            System.out.printf("%s: greedy agreement %d/%d (%.1f %%), max |Δlogit| %.4f%n", args[m + 2], agreeing[m],
                    steps, 100.0 * agreeing[m] / steps, worst[m]);
        }
    }
}

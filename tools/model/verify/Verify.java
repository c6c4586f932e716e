// Numerical check of an exported decoder in ONNX Runtime Java (single-file source launch, Java 17):
//
//   java -cp ~/.m2/repository/com/microsoft/onnxruntime/onnxruntime/1.29.0/onnxruntime-1.29.0.jar \
//        tools/model/verify/Verify.java <model-dir> [reference.json]
//
// 1. greedy-decodes 20 tokens per prompt two ways: full recompute every step (zero-length past) and
//    KV-cached (present.* fed back as past_key_values.*), and asserts identical ids;
// 2. with a reference file written by tools/model/reference.py (torch), asserts the prompt's
//    last-position logits match (max |diff| <= 1e-3) and that the ids equal torch's greedy ids;
// 3. checks that attention_mask is honoured: a left-padded batch of two rows gives the same last
//    logits for the padded row as the unpadded batch-1 run.
// Without a reference file it decodes from a fixed prompt (ids 1..8) and checks 1 and 3 only.
import ai.onnxruntime.*;

import java.nio.FloatBuffer;
import java.nio.file.*;
import java.util.*;
import java.util.regex.*;

public class Verify {
    static OrtEnvironment env = OrtEnvironment.getEnvironment();
    static int layers, kvHeads, headDim, vocab;

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: Verify <model-dir> [reference.json]");
            System.exit(2);
        }
        Path dir = Paths.get(args[0]);
        Path file = dir.resolve("model.onnx");
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
             OrtSession s = env.createSession(file.toString(), so)) {
            for (Map.Entry<String, NodeInfo> e : s.getInputInfo().entrySet()) {
                String n = e.getKey();
                if (n.startsWith("past_key_values.") && n.endsWith(".key")) {
                    layers++;
                    long[] shape = ((TensorInfo) e.getValue().getInfo()).getShape();
                    kvHeads = (int) shape[1];
                    headDim = (int) shape[3];
                }
            }
            vocab = (int) ((TensorInfo) s.getOutputInfo().get("logits").getInfo()).getShape()[2];
            System.out.printf("model %s: inputs %s%n  layers=%d kvHeads=%d headDim=%d vocab=%d%n", file,
                    s.getInputNames(), layers, kvHeads, headDim, vocab);

            List<long[]> prompts = new ArrayList<>();
            List<long[]> refIds = new ArrayList<>();
            List<float[]> refLogits = new ArrayList<>();
            if (args.length > 1) {
                String json = Files.readString(Paths.get(args[1]));
                int n = (int) longs(json, "num_cases")[0];
                for (int i = 0; i < n; i++) {
                    prompts.add(longs(json, "prompt_ids_" + i));
                    refIds.add(longs(json, "greedy_ids_" + i));
                    refLogits.add(floats(json, "last_logits_" + i));
                }
            } else {
                prompts.add(new long[] {1, 2, 3, 4, 5, 6, 7, 8});
            }
            int steps = 20;
            boolean ok = true;
            for (int c = 0; c < prompts.size(); c++) {
                long[] p = prompts.get(c);
                float[][] firstLogits = new float[1][];
                long t0 = System.nanoTime();
                long[] full = greedyFull(s, p, steps, firstLogits);
                long t1 = System.nanoTime();
                long[] cached = greedyCached(s, p, steps);
                long t2 = System.nanoTime();
                boolean same = Arrays.equals(full, cached);
                System.out.printf("case %d: prompt %d tokens%n  full   %s (%.0f ms)%n  cached %s (%.0f ms)%n  full==cached: %s%n",
                        c, p.length, Arrays.toString(full), (t1 - t0) / 1e6, Arrays.toString(cached), (t2 - t1) / 1e6, same);
                ok &= same;
                if (c < refIds.size()) {
                    long[] r = refIds.get(c);
                    boolean sameRef = Arrays.equals(Arrays.copyOf(r, steps), full);
                    double maxDiff = 0;
                    float[] rl = refLogits.get(c);
                    for (int v = 0; v < vocab; v++) maxDiff = Math.max(maxDiff, Math.abs(rl[v] - firstLogits[0][v]));
                    System.out.printf("  torch ids %s%n  ids==torch: %s, max|logit diff| vs torch = %.2e%n",
                            Arrays.toString(r), sameRef, maxDiff);
                    ok &= sameRef && maxDiff <= 1e-3;
                }
                double padDiff = paddedBatchDiff(s, p, firstLogits[0]);
                System.out.printf("  left-padded batch-2 row vs batch-1: max|logit diff| = %.2e%n", padDiff);
                ok &= padDiff <= 1e-3;
            }
            System.out.println(ok ? "VERIFY OK" : "VERIFY FAILED");
            if (!ok) System.exit(1);
        }
    }

    static Map<String, OnnxTensor> inputs(long[][] ids, long[][] mask, long[][] pos) throws OrtException {
        Map<String, OnnxTensor> m = new HashMap<>();
        m.put("input_ids", OnnxTensor.createTensor(env, ids));
        m.put("attention_mask", OnnxTensor.createTensor(env, mask));
        m.put("position_ids", OnnxTensor.createTensor(env, pos));
        return m;
    }

    static void emptyPast(Map<String, OnnxTensor> m, int batch) throws OrtException {
        for (int i = 0; i < layers; i++) {
            for (String kind : new String[] {"key", "value"}) {
                m.put("past_key_values." + i + "." + kind,
                        OnnxTensor.createTensor(env, FloatBuffer.allocate(0), new long[] {batch, kvHeads, 0, headDim}));
            }
        }
    }

    static float[] lastLogits(OrtSession.Result r, int row) throws OrtException {
        OnnxTensor t = (OnnxTensor) r.get("logits").get();
        long[] shape = t.getInfo().getShape();
        FloatBuffer fb = t.getFloatBuffer();
        int seq = (int) shape[1];
        float[] out = new float[vocab];
        fb.position((row * seq + seq - 1) * vocab);
        fb.get(out);
        return out;
    }

    static int argmax(float[] x) {
        int b = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[b]) b = i;
        return b;
    }

    static void closeAll(Map<String, OnnxTensor> m) {
        for (OnnxTensor t : m.values()) t.close();
    }

    static long[] greedyFull(OrtSession s, long[] prompt, int steps, float[][] first) throws OrtException {
        List<Long> ids = new ArrayList<>();
        for (long x : prompt) ids.add(x);
        long[] out = new long[steps];
        for (int k = 0; k < steps; k++) {
            int n = ids.size();
            long[][] a = new long[1][n], m = new long[1][n], p = new long[1][n];
            for (int i = 0; i < n; i++) { a[0][i] = ids.get(i); m[0][i] = 1; p[0][i] = i; }
            Map<String, OnnxTensor> in = inputs(a, m, p);
            emptyPast(in, 1);
            try (OrtSession.Result r = s.run(in)) {
                float[] l = lastLogits(r, 0);
                if (k == 0) first[0] = l;
                out[k] = argmax(l);
                ids.add(out[k]);
            } finally {
                closeAll(in);
            }
        }
        return out;
    }

    static long[] greedyCached(OrtSession s, long[] prompt, int steps) throws OrtException {
        long[] out = new long[steps];
        OrtSession.Result prev = null;
        long[] step = prompt;
        int start = 0;
        for (int k = 0; k < steps; k++) {
            int n = step.length, total = start + n;
            long[][] a = new long[1][n], m = new long[1][total], p = new long[1][n];
            for (int i = 0; i < n; i++) { a[0][i] = step[i]; p[0][i] = start + i; }
            Arrays.fill(m[0], 1);
            Map<String, OnnxTensor> own = inputs(a, m, p);
            Map<String, OnnxTensor> in = new HashMap<>(own);
            if (prev == null) {
                emptyPast(own, 1);
                in.putAll(own);
            } else {
                for (int i = 0; i < layers; i++) {
                    for (String kind : new String[] {"key", "value"}) {
                        in.put("past_key_values." + i + "." + kind, (OnnxTensor) prev.get("present." + i + "." + kind).get());
                    }
                }
            }
            OrtSession.Result r = s.run(in);
            closeAll(own);
            if (prev != null) prev.close(); // only after the next step has run
            prev = r;
            out[k] = argmax(lastLogits(r, 0));
            step = new long[] {out[k]};
            start = total;
        }
        if (prev != null) prev.close();
        return out;
    }

    /** Row 0: the prompt left-padded by 3; row 1: the prompt. Returns max diff of row 0's last logits vs ref. */
    static double paddedBatchDiff(OrtSession s, long[] prompt, float[] ref) throws OrtException {
        int pad = 3, n = prompt.length + pad;
        long[][] a = new long[2][n], m = new long[2][n], p = new long[2][n];
        for (int i = 0; i < n; i++) {
            boolean real = i >= pad;
            a[0][i] = real ? prompt[i - pad] : 0;
            m[0][i] = real ? 1 : 0;
            p[0][i] = real ? i - pad : 1;
            // row 1: prompt then 3 right-side extra tokens masked out (must not disturb anything either)
            a[1][i] = i < prompt.length ? prompt[i] : 0;
            m[1][i] = i < prompt.length ? 1 : 0;
            p[1][i] = i;
        }
        Map<String, OnnxTensor> in = inputs(a, m, p);
        emptyPast(in, 2);
        try (OrtSession.Result r = s.run(in)) {
            float[] l = lastLogits(r, 0);
            double d = 0;
            for (int v = 0; v < vocab; v++) d = Math.max(d, Math.abs(l[v] - ref[v]));
            // row 1: logits at position prompt.length-1 must match too
            OnnxTensor t = (OnnxTensor) r.get("logits").get();
            FloatBuffer fb = t.getFloatBuffer();
            float[] l1 = new float[vocab];
            fb.position((n + prompt.length - 1) * vocab);
            fb.get(l1);
            for (int v = 0; v < vocab; v++) d = Math.max(d, Math.abs(l1[v] - ref[v]));
            return d;
        } finally {
            closeAll(in);
        }
    }

    static String array(String json, String key) {
        Matcher mt = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*\\[([^\\]]*)\\]").matcher(json);
        if (mt.find()) return mt.group(1);
        Matcher sc = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*([-0-9.eE+]+)").matcher(json);
        if (sc.find()) return sc.group(1);
        throw new IllegalArgumentException("missing key " + key);
    }

    static long[] longs(String json, String key) {
        return Arrays.stream(array(json, key).split(",")).map(String::trim).filter(x -> !x.isEmpty())
                .mapToLong(Long::parseLong).toArray();
    }

    static float[] floats(String json, String key) {
        String[] parts = array(json, key).split(",");
        float[] f = new float[parts.length];
        for (int i = 0; i < parts.length; i++) f[i] = Float.parseFloat(parts[i].trim());
        return f;
    }
}

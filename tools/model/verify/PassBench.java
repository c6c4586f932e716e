// Times single ONNX Runtime passes of decoder exports side by side (single-file source launch, Java 17), to
// compare quantized layouts and session options without the service around them:
//
//   java -cp ~/.m2/repository/com/microsoft/onnxruntime/onnxruntime/1.29.0/onnxruntime-1.29.0.jar \
//        tools/model/verify/PassBench.java ROUNDS CASES MODEL[#OPTIONS] MODEL[#OPTIONS] ...
//
// CASES, comma-separated: pM (a prefill pass of M tokens, empty past), pM@P (M tokens after a past of P),
// dB@P (one decode step of B rows after a past of P each). The past is zeros: the cost of a pass does not
// depend on the values. OPTIONS, comma-separated: threads=N, spin=0|1, prepack=0|1, opt=basic|extended|all,
// logits=0|1 (whether prefill passes fetch logits as well as the presents), cfg:KEY=VALUE (a session
// configuration entry), profile=PREFIX (ONNX Runtime's profiler: every node's time, written to PREFIX_*.json when
// the rounds end; tools/model/verify/ort_profile.py sums it by op and node). Every model is opened first, then the rounds run each case on each model in turn
// (interleaved), after one warm-up round (-1). Prints each pass as it ends (stderr), then per model and case the
// median wall ms and the median process CPU ms (all threads; spinning shows there) over the rounds.
import ai.onnxruntime.*;

import java.lang.management.ManagementFactory;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.*;

public class PassBench {
    static final OrtEnvironment env = OrtEnvironment.getEnvironment();
    static final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    record Opened(String label, OrtSession session, boolean logits, int layers, int kvHeads, int headDim) {
    }

    record Case(String label, int rows, int tokens, int past) {
        static Case parse(String s) {
            String[] at = s.split("@");
            int past = at.length > 1 ? Integer.parseInt(at[1]) : 0;
            int n = Integer.parseInt(at[0].substring(1));
            return s.startsWith("d") ? new Case(s, n, 1, past) : new Case(s, 1, n, past);
        }
    }

    public static void main(String[] args) throws Exception {
        int rounds = Integer.parseInt(args[0]);
        List<Case> cases = Arrays.stream(args[1].split(",")).map(Case::parse).toList();
        List<Opened> models = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            models.add(open(args[i]));
        }
        Map<String, List<double[]>> times = new LinkedHashMap<>();
        for (int r = -1; r < rounds; r++) {
            for (Case c : cases) {
                for (Opened m : r % 2 == 0 ? models : reversed(models)) {
                    double[] t = run(m, c);
                    System.err.printf("round %d\t%s\t%s\t%.0f ms wall\t%.0f ms cpu%n", r, m.label(), c.label(), t[0], t[1]);
                    if (r >= 0) {
                        times.computeIfAbsent(m.label() + "\t" + c.label(), k -> new ArrayList<>()).add(t);
                    }
                }
            }
        }
        for (Opened m : models) {
            if (m.label().contains("profile=")) {
                System.err.printf("profile of %s: %s%n", m.label(), m.session().endProfiling());
            }
        }
        System.out.println("model\tcase\twall ms (median)\tcpu ms (median)\twall ms (all)");
        for (var e : times.entrySet()) {
            double[] wall = e.getValue().stream().mapToDouble(t -> t[0]).sorted().toArray();
            double[] cpu = e.getValue().stream().mapToDouble(t -> t[1]).sorted().toArray();
            StringBuilder all = new StringBuilder();
            e.getValue().forEach(t -> all.append(String.format("%.0f ", t[0])));
            System.out.printf("%s\t%.1f\t%.1f\t%s%n", e.getKey(), wall[wall.length / 2], cpu[cpu.length / 2], all);
        }
    }

    static <T> List<T> reversed(List<T> list) {
        List<T> copy = new ArrayList<>(list);
        Collections.reverse(copy);
        return copy;
    }

    static Opened open(String spec) throws OrtException {
        String[] parts = spec.split("#", 2);
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        boolean logits = false;
        if (parts.length > 1) {
            for (String option : parts[1].split(",")) {
                String[] kv = option.split("=", 2);
                switch (kv[0]) {
                    case "threads" -> so.setIntraOpNumThreads(Integer.parseInt(kv[1]));
                    case "spin" -> so.addConfigEntry("session.intra_op.allow_spinning", kv[1]);
                    case "prepack" -> so.addConfigEntry("session.disable_prepacking", "1".equals(kv[1]) ? "0" : "1");
                    case "opt" -> so.setOptimizationLevel(switch (kv[1]) {
                        case "basic" -> OrtSession.SessionOptions.OptLevel.BASIC_OPT;
                        case "extended" -> OrtSession.SessionOptions.OptLevel.EXTENDED_OPT;
                        default -> OrtSession.SessionOptions.OptLevel.ALL_OPT;
                    });
                    case "logits" -> logits = "1".equals(kv[1]);
                    case "profile" -> so.enableProfiling(kv[1]);
                    default -> {
                        if (!kv[0].startsWith("cfg:")) {
                            throw new IllegalArgumentException("unknown option " + option);
                        }
                        so.addConfigEntry(kv[0].substring(4), kv[1]);
                    }
                }
            }
        }
        long t0 = System.nanoTime();
        OrtSession s = env.createSession(parts[0], so);
        int layers = 0, kvHeads = 0, headDim = 0;
        for (var e : s.getInputInfo().entrySet()) {
            if (e.getKey().startsWith("past_key_values.") && e.getKey().endsWith(".key")) {
                layers++;
                long[] shape = ((TensorInfo) e.getValue().getInfo()).getShape();
                kvHeads = (int) shape[1];
                headDim = (int) shape[3];
            }
        }
        System.err.printf("opened %s in %.1f s%n", spec, (System.nanoTime() - t0) / 1e9);
        return new Opened(spec, s, logits, layers, kvHeads, headDim);
    }

    /** One pass: {wall ms, process CPU ms}. */
    static double[] run(Opened m, Case c) throws OrtException {
        Map<String, OnnxTensor> in = new HashMap<>();
        Random random = new Random(c.tokens() * 31L + c.rows());
        long[] ids = new long[c.rows() * c.tokens()];
        long[] positions = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 1 + random.nextInt(1000);
            positions[i] = c.past() + i % c.tokens();
        }
        long[] mask = new long[c.rows() * (c.past() + c.tokens())];
        Arrays.fill(mask, 1);
        try {
            in.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {c.rows(), c.tokens()}));
            in.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask),
                    new long[] {c.rows(), c.past() + c.tokens()}));
            if (m.session().getInputNames().contains("position_ids")) {
                in.put("position_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(positions),
                        new long[] {c.rows(), c.tokens()}));
            }
            long[] pastShape = {c.rows(), m.kvHeads(), c.past(), m.headDim()};
            FloatBuffer zeros = FloatBuffer.allocate(c.rows() * m.kvHeads() * c.past() * m.headDim());
            for (int l = 0; l < m.layers(); l++) {
                for (String kind : new String[] {"key", "value"}) {
                    in.put("past_key_values." + l + "." + kind, OnnxTensor.createTensor(env, zeros, pastShape));
                }
            }
            Set<String> outputs = new LinkedHashSet<>();
            for (String name : m.session().getOutputNames()) {
                if (!name.equals("logits") || m.logits() || c.tokens() == 1) {
                    outputs.add(name);
                }
            }
            long cpu0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            try (OrtSession.Result r = m.session().run(in, outputs)) {
                return new double[] {(System.nanoTime() - t0) / 1e6, (os.getProcessCpuTime() - cpu0) / 1e6};
            }
        } finally {
            in.values().forEach(OnnxTensor::close);
        }
    }
}

// Round-trip check of a tokenizer.json through the Rust HF tokenizers library as used from Java (DJL):
//
//   R=~/.m2/repository; export RUST_FLAVOR=cpu
//   CP=$R/ai/djl/huggingface/tokenizers/0.38.0/tokenizers-0.38.0.jar:$R/ai/djl/api/0.38.0/api-0.38.0.jar:\
//      $R/com/google/code/gson/gson/2.13.1/gson-2.13.1.jar:$R/net/java/dev/jna/jna/5.17.0/jna-5.17.0.jar:\
//      $R/org/apache/commons/commons-compress/1.27.1/commons-compress-1.27.1.jar:$R/org/slf4j/slf4j-api/2.0.17/slf4j-api-2.0.17.jar
//   java -cp $CP tools/model/verify/TokenizerCheck.java <model-dir> [reference.json]
//
// Encodes a few strings (plain text, unicode, a ChatML prompt with special tokens), decodes them back,
// and with a reference file asserts the ids equal the Python trainer's encoder (prompt_ids_N).
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import java.nio.file.*;
import java.util.*;
import java.util.regex.*;

public class TokenizerCheck {
    public static void main(String[] args) throws Exception {
        Path dir = Paths.get(args[0]);
        Map<String, String> opts = Map.of("addSpecialTokens", "false", "padding", "false", "truncation", "false");
        boolean ok = true;
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"), opts)) {
            String[] samples = {
                "Where is my order 417263? It was supposed to arrive on March 3.",
                "I was charged twice: $49.99 each time!!  Please   help.",
                "Ünïcödé, emoji 🙂 and tabs\tand\nnewlines",
                "<|im_start|>system\nYou are a helpful customer support assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
            };
            for (String s : samples) {
                Encoding e = tok.encode(s, false, false);
                long[] ids = e.getIds();
                String back = tok.decode(ids, false);
                boolean same = back.equals(s);
                ok &= same;
                System.out.printf("%-5s %3d ids %s%n      tokens %s%n", same ? "OK" : "DIFF", ids.length,
                        Arrays.toString(Arrays.copyOf(ids, Math.min(12, ids.length))),
                        Arrays.toString(Arrays.copyOf(e.getTokens(), Math.min(12, ids.length))));
                if (!same) System.out.println("      decoded: " + back);
            }
            if (args.length > 1) {
                String json = Files.readString(Paths.get(args[1]));
                Matcher m = Pattern.compile("\"prompt_ids_(\\d+)\"\\s*:\\s*\\[([^\\]]*)\\]").matcher(json);
                Matcher t = Pattern.compile("\"prompt_text_(\\d+)\"\\s*:\\s*(\"(?:[^\"\\\\]|\\\\.)*\")").matcher(json);
                Map<String, String> texts = new HashMap<>();
                while (t.find()) texts.put(t.group(1), unescape(t.group(2)));
                while (m.find()) {
                    long[] want = Arrays.stream(m.group(2).split(",")).map(String::trim).mapToLong(Long::parseLong).toArray();
                    String text = texts.get(m.group(1));
                    if (text == null) continue;
                    long[] got = tok.encode(text, false, false).getIds();
                    boolean same = Arrays.equals(want, got);
                    ok &= same;
                    System.out.printf("%-5s reference prompt %s: %d ids (python encoder vs Rust tokenizers)%n",
                            same ? "OK" : "DIFF", m.group(1), got.length);
                }
            }
        }
        System.out.println(ok ? "TOKENIZER OK" : "TOKENIZER FAILED");
        if (!ok) System.exit(1);
    }

    static String unescape(String q) {
        StringBuilder b = new StringBuilder();
        for (int i = 1; i < q.length() - 1; i++) {
            char c = q.charAt(i);
            if (c != '\\') { b.append(c); continue; }
            char n = q.charAt(++i);
            switch (n) {
                case 'n': b.append('\n'); break;
                case 't': b.append('\t'); break;
                case 'r': b.append('\r'); break;
                case 'u': b.append((char) Integer.parseInt(q.substring(i + 1, i + 5), 16)); i += 4; break;
                default: b.append(n);
            }
        }
        return b.toString();
    }
}

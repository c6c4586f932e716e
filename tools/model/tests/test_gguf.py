"""tools/model/gguf.py and onnx_to_gguf.py: ggml's block formats against hand-computed bytes, and a tiny random
export written to GGUF and read back with gguf.Reader."""
import json
import os
import struct
import tempfile
import unittest

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from tools.model import gguf, onnx_to_gguf
    MISSING = None
except ImportError as e:  # Debian's python3-onnx and python3-numpy
    MISSING = str(e)

HIDDEN, FFN, HEADS, KV_HEADS, HEAD_DIM, VOCAB, LAYERS = 32, 64, 2, 1, 16, 8, 2


def tiny_export(directory, model_type="qwen2", tied=True):
    """The shape of torch's export (tools/model/export_onnx.py) without the arithmetic between the weights: named
    norms, embedding and biases, unnamed [in, out] MatMul weights, equal initializers shared through Identity."""
    rng = np.random.default_rng(0)
    hf, initializers, nodes = {}, [], []

    def matmul(module, n_in, n_out):
        w = rng.standard_normal((n_in, n_out)).astype(np.float32)
        name = "onnx::MatMul_%d" % len(initializers)
        initializers.append(numpy_helper.from_array(w, name))
        nodes.append(helper.make_node("MatMul", ["x", name], [module + "_out"],
                                      name="/" + module.replace(".", "/") + "/MatMul"))
        hf[module + ".weight"] = w.T

    def named(name, value):
        hf[name] = value
        initializers.append(numpy_helper.from_array(value, name))

    named("model.embed_tokens.weight", rng.standard_normal((VOCAB, HIDDEN)).astype(np.float32))
    ones = np.ones(HIDDEN, dtype=np.float32)
    named("model.layers.0.input_layernorm.weight", ones)
    for i in range(LAYERS):
        p = "model.layers.%d." % i
        for norm in ("input_layernorm", "post_attention_layernorm"):
            if p + norm + ".weight" not in hf:  # equal to the first norm: the exporter shares it
                nodes.append(helper.make_node("Identity", ["model.layers.0.input_layernorm.weight"],
                                              [p + norm + ".weight"]))
                hf[p + norm + ".weight"] = ones
        for proj, width in (("q_proj", HEADS * HEAD_DIM), ("k_proj", KV_HEADS * HEAD_DIM),
                            ("v_proj", KV_HEADS * HEAD_DIM)):
            matmul(p + "self_attn." + proj, HIDDEN, width)
            named(p + "self_attn.%s.bias" % proj, rng.standard_normal(width).astype(np.float32))
        matmul(p + "self_attn.o_proj", HEADS * HEAD_DIM, HIDDEN)
        matmul(p + "mlp.gate_proj", HIDDEN, FFN)
        matmul(p + "mlp.up_proj", HIDDEN, FFN)
        matmul(p + "mlp.down_proj", FFN, HIDDEN)
    nodes.append(helper.make_node("Identity", ["model.layers.0.input_layernorm.weight"], ["model.norm.weight"]))
    hf["model.norm.weight"] = ones
    matmul("model", HIDDEN, VOCAB)  # the LM head: /model/MatMul
    hf["lm_head.weight"] = hf.pop("model.weight")
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, HIDDEN])],
                              [helper.make_tensor_value_info("model_out", TensorProto.FLOAT, [1, VOCAB])],
                              initializers)
    onnx.save_model(helper.make_model(graph), os.path.join(directory, "model.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="model.onnx.data", size_threshold=0)
    config = dict(model_type=model_type, hidden_size=HIDDEN, intermediate_size=FFN, num_hidden_layers=LAYERS,
                  num_attention_heads=HEADS, num_key_value_heads=KV_HEADS, head_dim=HEAD_DIM, vocab_size=VOCAB,
                  max_position_embeddings=128, rms_norm_eps=1e-6, rope_theta=1e6, tie_word_embeddings=tied,
                  bos_token_id=None, eos_token_id=2, pad_token_id=0, _name_or_path="tiny-random")
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config, f)
    vocab = {"<|endoftext|>": 0, "a": 3, "b": 4, "\u0120": 5, "ab": 6, "\u0120a": 7}
    tokenizer = {"model": {"type": "BPE", "vocab": vocab, "merges": ["a b", ["\u0120", "a"]]},
                 "added_tokens": [{"id": 0, "content": "<|endoftext|>", "special": True},
                                  {"id": 1, "content": "<|im_start|>", "special": True},
                                  {"id": 2, "content": "<|im_end|>", "special": True}]}
    with open(os.path.join(directory, "tokenizer.json"), "w") as f:
        json.dump(tokenizer, f)
    return hf


@unittest.skipIf(MISSING, "numpy/onnx missing: %s" % MISSING)
class BlockFormatsTest(unittest.TestCase):

    def test_q8_0_scale_is_max_magnitude_over_127_and_rounds_half_away_from_zero(self):
        x = np.zeros(32, dtype=np.float32)
        x[0], x[1], x[2], x[3], x[31] = -127 / 64, 2.5 / 64, -2.5 / 64, 100 / 64, 1 / 64  # d = 1/64 exactly
        data = gguf.quantize_q8_0(x)
        self.assertEqual(len(data), 34)
        self.assertEqual(data[:2], bytes([0x00, 0x24]))  # float16 2^-6, little-endian
        q = np.frombuffer(data[2:], dtype=np.int8)
        self.assertEqual(list(q[:4]), [-127, 3, -3, 100])
        self.assertEqual(q[31], 1)
        self.assertTrue(np.all(q[4:31] == 0))

    def test_q4_0_scale_is_the_signed_extreme_over_minus_8_with_halves_in_low_and_high_nibbles(self):
        x = np.zeros(32, dtype=np.float32)
        x[0], x[1], x[2], x[16], x[17] = 1.0, -1.0, 0.25, -0.5, 0.3  # d = 1 / -8
        data = gguf.quantize_q4_0(x)
        self.assertEqual(len(data), 18)
        self.assertEqual(data[:2], bytes([0x00, 0xB0]))  # float16 -0.125
        # q = min(15, trunc(x / d + 8.5)): 1 -> 0, -1 -> 15 (16 clipped), 0.25 -> 6, -0.5 -> 12, 0.3 -> 6, 0 -> 8
        self.assertEqual(data[2], 0 | 12 << 4)   # x[0] low, x[16] high
        self.assertEqual(data[3], 15 | 6 << 4)   # x[1], x[17]
        self.assertEqual(data[4], 6 | 8 << 4)    # x[2], x[18]
        self.assertTrue(all(b == 0x88 for b in data[5:]))
        back = gguf.dequantize(gguf.Q4_0, data, (32,))
        self.assertEqual(list(back[[0, 1, 2, 16]]), [1.0, -0.875, 0.25, -0.5])

    def test_zero_blocks_have_zero_scale(self):
        self.assertEqual(gguf.quantize_q8_0(np.zeros(32)), bytes(34))
        # 0 / -8 is -0.0 in C as in numpy: float16 0x8000
        self.assertEqual(gguf.quantize_q4_0(np.zeros(32)), bytes([0x00, 0x80]) + bytes([0x88]) * 16)

    def test_dequantized_blocks_stay_within_their_step(self):
        x = np.random.default_rng(1).standard_normal((4, 64)).astype(np.float32)
        # Q8_0 rounds: half a step. Q4_0 maps the extreme to -8, so the opposite extreme clips at +7: one step.
        # Plus the float16 scale's rounding (2^-11 relative) times the largest q.
        for kind, steps, bound in ((gguf.Q8_0, 127, 0.5 + 127 / 2048), (gguf.Q4_0, 8, 1.0 + 8 / 2048)):
            back = gguf.dequantize(kind, gguf.encode(kind, x), x.shape)
            step = np.abs(x.reshape(-1, 32)).max(axis=1) / steps
            self.assertTrue(np.all(np.abs(back - x).reshape(-1, 32) <= step[:, None] * bound), kind)

    def test_a_row_that_does_not_fill_whole_blocks_is_refused(self):
        with self.assertRaises(ValueError):
            gguf.quantize_q8_0(np.zeros((2, 48)))


@unittest.skipIf(MISSING, "numpy/onnx missing: %s" % MISSING)
class OnnxToGgufTest(unittest.TestCase):

    def convert(self, kind, model_type="qwen2", tied=True):
        d = tempfile.mkdtemp(prefix="gguf-test-")
        self.addCleanup(lambda: [os.remove(os.path.join(d, f)) for f in os.listdir(d)] and os.rmdir(d))
        hf = tiny_export(d, model_type, tied)
        out = os.path.join(d, "model.gguf")
        onnx_to_gguf.convert(d, out, kind)
        return hf, gguf.Reader(out), out

    def test_header_and_metadata_read_back(self):
        _, r, out = self.convert(gguf.F32)
        with open(out, "rb") as f:
            self.assertEqual(f.read(8), b"GGUF" + struct.pack("<I", 3))
        self.assertEqual(r.version, 3)
        m = r.metadata
        self.assertEqual(m["general.architecture"], gguf.string("qwen2"))
        self.assertEqual(m["general.file_type"], gguf.u32(0))
        for key, value in (("block_count", LAYERS), ("embedding_length", HIDDEN), ("feed_forward_length", FFN),
                           ("attention.head_count", HEADS), ("attention.head_count_kv", KV_HEADS),
                           ("context_length", 128), ("rope.dimension_count", HEAD_DIM)):
            self.assertEqual(m["qwen2." + key], gguf.u32(value), key)
        self.assertEqual(m["qwen2.rope.freq_base"], gguf.f32(1e6))
        self.assertAlmostEqual(m["qwen2.attention.layer_norm_rms_epsilon"].value, 1e-6)
        self.assertEqual(m["tokenizer.ggml.model"], gguf.string("gpt2"))
        self.assertEqual(m["tokenizer.ggml.tokens"].value,
                         ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "a", "b", "\u0120", "ab", "\u0120a"])
        self.assertEqual(m["tokenizer.ggml.token_type"], gguf.array(gguf.INT32, [3, 3, 3, 1, 1, 1, 1, 1]))
        self.assertEqual(m["tokenizer.ggml.merges"], gguf.array(gguf.STRING, ["a b", "\u0120 a"]))
        self.assertEqual(m["tokenizer.ggml.eos_token_id"], gguf.u32(2))
        self.assertNotIn("tokenizer.ggml.bos_token_id", m)

    def test_f32_tensors_are_the_exports_weights_under_llama_cpp_names(self):
        hf, r, _ = self.convert(gguf.F32)
        self.assertEqual(len(r.tensors), 2 + LAYERS * 12)  # embedding, final norm; per layer 9 weights, 3 biases
        self.assertNotIn("output.weight", r.tensors)  # tied: llama.cpp reads token_embd
        for hf_name, array in hf.items():
            name = onnx_to_gguf.gguf_name(hf_name)
            if name == "output.weight":
                continue
            kind, shape, _ = r.tensors[name]
            self.assertEqual((kind, shape), (gguf.F32, array.shape), name)
            np.testing.assert_array_equal(r.array(name), array, name)
        self.assertEqual(r.tensors["blk.1.attn_k.weight"][1], (KV_HEADS * HEAD_DIM, HIDDEN))  # [out, in]
        self.assertTrue(all(offset % 32 == 0 for offset in r.offsets.values()))
        self.assertEqual(r.data_start % 32, 0)

    def test_quantized_files_quantize_matrices_and_keep_norms_and_biases_f32(self):
        for kind, file_type, steps in ((gguf.Q8_0, 7, 127), (gguf.Q4_0, 2, 8)):
            hf, r, _ = self.convert(kind, tied=False)
            self.assertEqual(r.metadata["general.file_type"], gguf.u32(file_type))
            for hf_name, array in hf.items():
                name = onnx_to_gguf.gguf_name(hf_name)
                expected = kind if array.ndim == 2 else gguf.F32
                self.assertEqual(r.tensors[name][0], expected, name)
                step = np.abs(array).max() / steps
                self.assertLessEqual(np.abs(r.array(name) - array).max(), step, name)
            self.assertIn("output.weight", r.tensors)

    def test_llama_architecture_reorders_q_and_k_rows_to_adjacent_pairs(self):
        hf, r, _ = self.convert(gguf.F32, model_type="llama")
        self.assertEqual(r.metadata["general.architecture"], gguf.string("llama"))
        q = hf["model.layers.0.self_attn.q_proj.weight"]
        got = r.array("blk.0.attn_q.weight")
        half = HEAD_DIM // 2
        for head in range(HEADS):
            for i in range(half):
                np.testing.assert_array_equal(got[head * HEAD_DIM + 2 * i], q[head * HEAD_DIM + i])
                np.testing.assert_array_equal(got[head * HEAD_DIM + 2 * i + 1], q[head * HEAD_DIM + half + i])
        k_bias = hf["model.layers.1.self_attn.k_proj.bias"]
        np.testing.assert_array_equal(r.array("blk.1.attn_k.bias")[1::2], k_bias[half:])
        np.testing.assert_array_equal(r.array("blk.0.attn_v.weight"), hf["model.layers.0.self_attn.v_proj.weight"])


if __name__ == "__main__":
    unittest.main()

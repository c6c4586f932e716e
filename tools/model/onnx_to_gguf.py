"""A GGUF file for llama.cpp from a kvshare decoder export (models/bench/*, tools/model/export_onnx.py): the same
tensors, so llama.cpp and kvshare run the same weights (tools/bench/peers.sh).

  /usr/bin/python3 -m tools.model.onnx_to_gguf MODEL_DIR OUT.gguf [--type f32|q8_0|q4_0]

MODEL_DIR holds model.onnx (external data beside it is read tensor by tensor), config.json (Hugging Face
Qwen2/Llama) and tokenizer.json (byte-level BPE). The weights are found by where the graph uses them, since
torch's exporter leaves the MatMul weights unnamed (onnx::MatMul_N, stored [in, out]) and shares equal
initializers through Identity nodes: a MatMul in /model/layers.3/self_attn/q_proj/ is that layer's q_proj.
--type quantizes every 2-D weight (the token embedding included) to that ggml block format; norms and biases stay
F32. A tied LM head is not written: llama.cpp then reads the token embedding as the output.

Rotary: kvshare's graphs rotate halves of each head (x_i with x_{i+d/2}), as Hugging Face does. llama.cpp's qwen2
architecture rotates the same way (NeoX style); its llama architecture rotates adjacent pairs, so for a llama
model the q/k rows of each head are reordered (row 2i <- i, row 2i+1 <- i + d/2) to give the same attention.
"""
import argparse
import json
import os
import re
import sys

import numpy as np
import onnx
from onnx import numpy_helper

from . import gguf

TYPES = {"f32": gguf.F32, "q8_0": gguf.Q8_0, "q4_0": gguf.Q4_0}
FILE_TYPES = {gguf.F32: 0, gguf.Q4_0: 2, gguf.Q8_0: 7}  # llama.cpp's llama_ftype: ALL_F32, MOSTLY_Q4_0, MOSTLY_Q8_0
ARCHITECTURES = {"qwen2": "qwen2", "llama": "llama"}
PRE_TOKENIZERS = {"qwen2": "qwen2", "llama": "llama-bpe"}

# Hugging Face module path (in the ONNX node names) -> llama.cpp tensor name
LAYER_NAMES = {
    "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down",
}
_LAYER = re.compile(r"^model\.layers\.(\d+)\.(.+)\.(weight|bias)$")


def gguf_name(hf_name):
    """model.layers.3.self_attn.q_proj.weight -> blk.3.attn_q.weight; None for a tensor llama.cpp lacks."""
    fixed = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
             "lm_head.weight": "output.weight"}
    if hf_name in fixed:
        return fixed[hf_name]
    m = _LAYER.match(hf_name)
    if m and m.group(2) in LAYER_NAMES:
        return "blk.%s.%s.%s" % (m.group(1), LAYER_NAMES[m.group(2)], m.group(3))
    return None


class OnnxWeights:
    """The Hugging Face named weights of an export, each in HF layout ([out, in] for Linear), read lazily."""

    def __init__(self, path):
        self.dir = os.path.dirname(os.path.abspath(path))
        graph = onnx.load(path, load_external_data=False).graph
        initializers = {t.name: t for t in graph.initializer}
        alias = {n.output[0]: n.input[0] for n in graph.node if n.op_type == "Identity"}

        def source(value):
            while value in alias:
                value = alias[value]
            return initializers.get(value)

        self.tensors = {}  # HF name -> (TensorProto, transpose)
        for name in list(initializers) + list(alias):
            if name.startswith("model.") and source(name) is not None:
                self.tensors[name] = (source(name), False)
        for node in graph.node:
            if node.op_type == "MatMul" and len(node.input) == 2 and source(node.input[1]) is not None:
                module = node.name.strip("/").rsplit("/", 1)[0].replace("/", ".")  # model.layers.0.self_attn.q_proj
                hf = "lm_head.weight" if module == "model" else module + ".weight"
                self.tensors.setdefault(hf, (source(node.input[1]), True))

    def shape(self, name):
        proto, transpose = self.tensors[name]
        dims = tuple(proto.dims)
        return dims[::-1] if transpose else dims

    def array(self, name):
        proto, transpose = self.tensors[name]
        a = self._read(proto)
        return np.ascontiguousarray(a.T if transpose else a)

    def _read(self, proto):
        if proto.data_location != onnx.TensorProto.EXTERNAL:
            return numpy_helper.to_array(proto).astype(np.float32)
        info = {e.key: e.value for e in proto.external_data}
        dtype = onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[proto.data_type]
        count = int(np.prod(proto.dims))
        with open(os.path.join(self.dir, info["location"]), "rb") as f:
            f.seek(int(info.get("offset", 0)))
            data = f.read(count * np.dtype(dtype).itemsize)
        return np.frombuffer(data, dtype=dtype).reshape(tuple(proto.dims)).astype(np.float32)


def rotate_pairs(w, head_dim):
    """Rows of q/k (or a bias) from halves-rotation order to adjacent-pairs order, per head."""
    heads = w.shape[0] // head_dim
    rest = w.shape[1:]
    return w.reshape(heads, 2, head_dim // 2, *rest).swapaxes(1, 2).reshape(w.shape)


def tokenizer_metadata(tokenizer, config, vocab_size):
    model = tokenizer["model"]
    if model.get("type") != "BPE":
        raise ValueError("only byte-level BPE tokenizers are written (got %s)" % model.get("type"))
    tokens = [None] * vocab_size
    types = [1] * vocab_size  # normal
    for text, i in model["vocab"].items():
        if i < vocab_size:
            tokens[i] = text
    for added in tokenizer.get("added_tokens", []):
        if added["id"] < vocab_size:
            tokens[added["id"]] = added["content"]
            types[added["id"]] = 3 if added.get("special") else 4  # control, user-defined
    for i, t in enumerate(tokens):
        if t is None:
            tokens[i], types[i] = "[PAD%d]" % i, 5  # unused
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]
    eos = config.get("eos_token_id")
    eos = eos[0] if isinstance(eos, list) else eos
    meta = {
        "tokenizer.ggml.model": gguf.string("gpt2"),
        "tokenizer.ggml.pre": gguf.string(PRE_TOKENIZERS.get(config["model_type"], "default")),
        "tokenizer.ggml.tokens": gguf.array(gguf.STRING, tokens),
        "tokenizer.ggml.token_type": gguf.array(gguf.INT32, types),
        "tokenizer.ggml.merges": gguf.array(gguf.STRING, merges),
        "tokenizer.ggml.add_bos_token": gguf.boolean(config.get("bos_token_id") is not None),
    }
    for key, value in (("eos", eos), ("bos", config.get("bos_token_id")), ("padding", config.get("pad_token_id"))):
        if value is not None:
            meta["tokenizer.ggml.%s_token_id" % key] = gguf.u32(value)
    return meta


def model_metadata(config, name, kind):
    arch = ARCHITECTURES[config["model_type"]]
    heads = config["num_attention_heads"]
    head_dim = config.get("head_dim") or config["hidden_size"] // heads
    return arch, {
        "general.architecture": gguf.string(arch),
        "general.name": gguf.string(name),
        "general.file_type": gguf.u32(FILE_TYPES[kind]),
        arch + ".block_count": gguf.u32(config["num_hidden_layers"]),
        arch + ".context_length": gguf.u32(config["max_position_embeddings"]),
        arch + ".embedding_length": gguf.u32(config["hidden_size"]),
        arch + ".feed_forward_length": gguf.u32(config["intermediate_size"]),
        arch + ".attention.head_count": gguf.u32(heads),
        arch + ".attention.head_count_kv": gguf.u32(config.get("num_key_value_heads", heads)),
        arch + ".attention.key_length": gguf.u32(head_dim),
        arch + ".attention.value_length": gguf.u32(head_dim),
        arch + ".rope.dimension_count": gguf.u32(head_dim),
        arch + ".rope.freq_base": gguf.f32(config.get("rope_theta", 10000.0)),
        arch + ".attention.layer_norm_rms_epsilon": gguf.f32(config["rms_norm_eps"]),
        arch + ".vocab_size": gguf.u32(config["vocab_size"]),
    }, head_dim


def convert(model_dir, out, kind=gguf.F32):
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(model_dir, "tokenizer.json")) as f:
        tokenizer = json.load(f)
    weights = OnnxWeights(os.path.join(model_dir, "model.onnx"))
    arch, metadata, head_dim = model_metadata(config, config.get("_name_or_path", os.path.basename(model_dir)), kind)
    metadata.update(tokenizer_metadata(tokenizer, config, config["vocab_size"]))
    tied = config.get("tie_word_embeddings", False)
    tensors = []
    for hf in sorted(weights.tensors, key=_order):
        name = gguf_name(hf)
        if name is None or (tied and name == "output.weight"):
            continue
        shape = weights.shape(hf)
        permute = arch == "llama" and re.search(r"attn_[qk]\.", name) is not None
        tensors.append((name, kind if len(shape) == 2 else gguf.F32, shape, _producer(weights, hf, permute, head_dim)))
    expected = 2 + config["num_hidden_layers"] * 9 + (0 if tied else 1)
    if sum(1 for t in tensors if t[0].endswith(".weight")) != expected:
        raise ValueError("found %d weights, expected %d: %s" % (
            sum(1 for t in tensors if t[0].endswith(".weight")), expected, [t[0] for t in tensors]))
    gguf.write(out, metadata, tensors)
    return [t[:3] for t in tensors]


def _producer(weights, hf, permute, head_dim):
    def produce():
        a = weights.array(hf)
        return rotate_pairs(a, head_dim) if permute else a
    return produce


def _order(hf):
    """token_embd, the layers in order, then output_norm and output (the order llama.cpp's converter uses)."""
    m = re.match(r"^model\.layers\.(\d+)\.", hf)
    rank = 0 if hf == "model.embed_tokens.weight" else (1 if m else 2)
    return rank, int(m.group(1)) if m else 0, hf


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model_dir")
    parser.add_argument("out")
    parser.add_argument("--type", choices=sorted(TYPES), default="f32")
    args = parser.parse_args(argv)
    tensors = convert(args.model_dir, args.out, TYPES[args.type])
    print("%s: %d tensors (%s) written to %s, %.0f MB" % (args.model_dir, len(tensors), args.type, args.out,
                                                         os.path.getsize(args.out) / 1e6), file=sys.stderr)


if __name__ == "__main__":
    main()

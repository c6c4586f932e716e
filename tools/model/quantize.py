"""Quantized layouts of a decoder export, the ones people download from onnx-community, made here.

  /usr/bin/python3 -m tools.model.quantize MODEL.onnx OUT.onnx --layout q4|int8|fp16|q4f16|fp32 [options]

Layouts (docs/models.md, "Quantized exports", says which to pick):
  q4     every MatMul whose weight is a 2-D initializer becomes com.microsoft MatMulNBits: 4-bit, blocks of
         --block-size along K, symmetric (zero point 8, implied) or --asymmetric (a zero point per block);
         --accuracy-level 0-4 (4: ONNX Runtime quantizes the activations to int8 per block too). Other weights
         (embeddings, fused Attention's) stay as they are; --lm-head 8 quantizes the LM head to 8 bits (same
         blocks; zero point 128 when symmetric; needs --accuracy-level 4), --lm-head keep leaves it alone (int8 too).
  int8   dynamic quantization: the activation goes through DynamicQuantizeLinear (uint8, scale and zero point
         per call), the weight is int8, symmetric, one scale per tensor or --per-channel (per output column);
         MatMulInteger's int32 result is cast and scaled back to float.
  fp16   every float32 tensor, initializer, constant and graph input/output (past/present KV, logits) becomes
         float16; ops named in --keep-fp32 run in float32 between Cast nodes.
  q4f16  fp16, then q4 with float16 scales: MatMulNBits with float16 activations.
  fp32   the weights as they are (with --last-logits, the export made cheaper to prefill).
--last-logits (any layout): the LM head projects the last position only, logits [batch, 1, vocab]; what the
engine reads anyway, at a fraction of a prefill pass's cost.
For a CPU: --layout q4 --accuracy-level 4 --block-size 128 --last-logits (docs/models.md, "4-bit on a CPU").
A float16 export (the tiny Llama reference) takes q4 as it is: the scales follow the weights' type.

Only onnx and numpy (Debian's python3-onnx, python3-numpy); the quantization is plain numpy, below. External
data is read, and written beside OUT.onnx (OUT.onnx.data) when the input had it or the model exceeds 1.5 GB.
"""
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MS_DOMAIN = "com.microsoft"
LAYOUTS = ("q4", "int8", "fp16", "q4f16", "fp32")
FP16_MAX = float(np.finfo(np.float16).max)


# ---------------------------------------------------------------- the math (numpy, tested on its own)

def quantize_blocks(weight, block_size, symmetric, bits=4):
    """Weight [K, N] (MatMul's B) → MatMulNBits' B [N, blocks, block_size * bits / 8] uint8 (4-bit: two values a
    byte, the first in the low nibble), scales [N * blocks] and, when asymmetric, zero points uint8, packed the
    same way ([N * ceil(blocks * bits / 8)]). K is zero-padded up to whole blocks. Dequantized:
    (q - zero point) * scale, the zero point 2^(bits-1) when absent."""
    k, n = weight.shape
    top, middle = (1 << bits) - 1, 1 << (bits - 1)
    blocks = -(-k // block_size)
    padded = np.zeros((blocks * block_size, n), dtype=np.float32)
    padded[:k] = weight
    by_block = padded.T.reshape(n, blocks, block_size)  # per output column, K in blocks
    if symmetric:
        # The value of largest magnitude lands on -middle exactly; the opposite extreme rounds to at most
        # middle, clipped to middle - 1.
        index = np.abs(by_block).argmax(axis=2)[..., None]
        extreme = np.take_along_axis(by_block, index, axis=2)[..., 0]
        scales = extreme / -float(middle)
        zero_points = np.full((n, blocks), middle, dtype=np.int32)
    else:
        low = np.minimum(by_block.min(axis=2), 0.0)
        high = np.maximum(by_block.max(axis=2), 0.0)
        scales = (high - low) / float(top)
        safe = np.where(scales == 0, 1.0, scales)
        zero_points = np.clip(np.rint(-low / safe), 0, top).astype(np.int32)
    safe = np.where(scales == 0, 1.0, scales)
    q = np.clip(np.rint(by_block / safe[..., None]) + zero_points[..., None], 0, top).astype(np.uint8)
    packed_zero_points = None
    if bits == 8:
        packed = q
        if not symmetric:
            packed_zero_points = zero_points.astype(np.uint8).reshape(-1)
    else:
        packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)
        if not symmetric:
            if blocks % 2:
                zero_points = np.concatenate([zero_points, np.zeros((n, 1), dtype=np.int32)], axis=1)
            packed_zero_points = (zero_points[:, 0::2] | (zero_points[:, 1::2] << 4)).astype(np.uint8).reshape(-1)
    return packed, scales.astype(np.float32).reshape(-1), packed_zero_points


def dequantize_blocks(packed, scales, packed_zero_points, k, block_size, bits=4):
    """The inverse, as MatMulNBits reads it: [K, N] float32. The tests check the packing against it."""
    n, blocks, _ = packed.shape
    if bits == 8:
        q = packed.astype(np.int32)
    else:
        q = np.empty((n, blocks, block_size), dtype=np.int32)
        q[..., 0::2] = packed & 0x0F
        q[..., 1::2] = packed >> 4
    if packed_zero_points is None:
        zero_points = np.full((n, blocks), 1 << (bits - 1), dtype=np.int32)
    elif bits == 8:
        zero_points = packed_zero_points.reshape(n, blocks).astype(np.int32)
    else:
        pairs = packed_zero_points.reshape(n, -1)
        zero_points = np.stack([pairs & 0x0F, pairs >> 4], axis=2).reshape(n, -1)[:, :blocks].astype(np.int32)
    values = (q - zero_points[..., None]) * scales.reshape(n, blocks)[..., None]
    return values.reshape(n, blocks * block_size)[:, :k].T.astype(np.float32)


def quantize_int8(weight, per_channel):
    """Weight [K, N] → int8 values and scales (a scalar, or one per column N), symmetric (zero point 0)."""
    magnitude = np.abs(weight).max(axis=0) if per_channel else np.abs(weight).max()
    scales = np.where(magnitude == 0, 1.0, magnitude / 127.0).astype(np.float32)
    q = np.clip(np.rint(weight / scales), -127, 127).astype(np.int8)
    return q, scales


# ---------------------------------------------------------------- graph rewriting

class Graph:
    """The model's graph with its initializers by name, and fresh names for what a rewrite adds."""

    def __init__(self, model):
        self.model = model
        self.graph = model.graph
        self.initializers = {t.name: t for t in self.graph.initializer}
        self.taken = {t.name for t in self.graph.initializer} | {n.name for n in self.graph.node}
        self.taken |= {o for n in self.graph.node for o in n.output}

    def fresh(self, base):
        name, i = base, 0
        while name in self.taken:
            i += 1
            name = "%s_%d" % (base, i)
        self.taken.add(name)
        return name

    def add_initializer(self, array, base):
        tensor = numpy_helper.from_array(array, self.fresh(base))
        self.graph.initializer.append(tensor)
        self.initializers[tensor.name] = tensor
        return tensor.name

    def weight(self, node):
        """MatMul's B when it is a 2-D float initializer, else None."""
        tensor = self.initializers.get(node.input[1])
        if tensor is None or len(tensor.dims) != 2:
            return None
        if tensor.data_type not in (TensorProto.FLOAT, TensorProto.FLOAT16):
            return None
        return tensor

    def drop_unused_initializers(self):
        used = {i for n in self.graph.node for i in n.input} | {o.name for o in self.graph.output}
        kept = [t for t in self.graph.initializer if t.name in used]
        del self.graph.initializer[:]
        self.graph.initializer.extend(kept)

    def use_ms_domain(self):
        if not any(o.domain == MS_DOMAIN for o in self.model.opset_import):
            self.model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))


def is_lm_head(node):
    return node.output[0] == "logits" or "lm_head" in node.name


def matmuls_to_quantize(graph, keep_lm_head):
    return [n for n in graph.graph.node if n.op_type == "MatMul" and n.domain in ("", "ai.onnx")
            and graph.weight(n) is not None and not (keep_lm_head and is_lm_head(n))]


def lm_head_bits(lm_head):
    """--lm-head: keep (None), 4 or 8."""
    return None if lm_head == "keep" else int(lm_head)


def replace_node(graph, old, new_nodes):
    nodes = list(graph.graph.node)
    at = nodes.index(old)
    nodes[at:at + 1] = new_nodes
    del graph.graph.node[:]
    graph.graph.node.extend(nodes)


def to_q4(model, block_size, symmetric, accuracy_level, lm_head):
    graph = Graph(model)
    for node in matmuls_to_quantize(graph, lm_head == "keep"):
        bits = lm_head_bits(lm_head) if is_lm_head(node) else 4
        tensor = graph.weight(node)
        weight = numpy_helper.to_array(tensor).astype(np.float32)
        k, n = weight.shape
        packed, scales, zero_points = quantize_blocks(weight, block_size, symmetric, bits)
        scale_type = np.float16 if tensor.data_type == TensorProto.FLOAT16 else np.float32
        inputs = [node.input[0], graph.add_initializer(packed, tensor.name + "_Q%d" % bits),
                  graph.add_initializer(scales.astype(scale_type), tensor.name + "_scales")]
        if zero_points is not None:
            inputs.append(graph.add_initializer(zero_points, tensor.name + "_zero_points"))
        replace_node(graph, node, [helper.make_node(
            "MatMulNBits", inputs, list(node.output), name=node.name + "_Q%d" % bits, domain=MS_DOMAIN,
            K=k, N=n, bits=bits, block_size=block_size, accuracy_level=accuracy_level)])
    graph.use_ms_domain()
    graph.drop_unused_initializers()
    return model


def last_position_logits(model):
    """The LM head runs on the last position only: logits [batch, 1, vocab]. The engine reads only a pass's last
    logits (a prefill pass reads none), and ONNX Runtime runs every node whatever outputs are fetched, so an
    export that projects every position spends a prefill pass's largest MatMul (hidden x vocab per token) on
    logits nobody reads."""
    graph = Graph(model)
    heads = [n for n in graph.graph.node if n.op_type in ("MatMul", "MatMulNBits") and is_lm_head(n)]
    if len(heads) != 1:
        raise SystemExit("--last-logits needs exactly one LM head MatMul (found %d)" % len(heads))
    head = heads[0]
    hidden = head.input[0]
    last = graph.fresh(hidden + "_last")
    bounds = [graph.add_initializer(np.array([value], dtype=np.int64), hidden + suffix)
              for value, suffix in ((-1, "_last_start"), (np.iinfo(np.int64).max, "_last_end"), (1, "_last_axis"))]
    head.input[0] = last
    replace_node(graph, head, [helper.make_node("Slice", [hidden] + bounds, [last], name=last), head])
    for output in graph.graph.output:
        if output.name == head.output[0] and len(output.type.tensor_type.shape.dim) == 3:
            output.type.tensor_type.shape.dim[1].Clear()
            output.type.tensor_type.shape.dim[1].dim_value = 1
    return model


def to_int8(model, per_channel, lm_head):
    graph = Graph(model)
    for node in matmuls_to_quantize(graph, lm_head == "keep"):
        tensor = graph.weight(node)
        if tensor.data_type != TensorProto.FLOAT:
            raise SystemExit("int8 needs a float32 export (%s is not)" % tensor.name)
        q, scales = quantize_int8(numpy_helper.to_array(tensor), per_channel)
        base = node.name or tensor.name
        a_q, a_scale, a_zero = (graph.fresh(base + suffix) for suffix in ("_a_q", "_a_scale", "_a_zero_point"))
        product, product_float, scale = (graph.fresh(base + s) for s in ("_int32", "_float", "_scale"))
        weight_zero = np.zeros(q.shape[1], dtype=np.int8) if per_channel else np.array(0, dtype=np.int8)
        replace_node(graph, node, [
            helper.make_node("DynamicQuantizeLinear", [node.input[0]], [a_q, a_scale, a_zero],
                             name=graph.fresh(base + "_quantize")),
            helper.make_node("MatMulInteger", [a_q, graph.add_initializer(q, tensor.name + "_quantized"), a_zero,
                                               graph.add_initializer(weight_zero, tensor.name + "_zero_point")],
                             [product], name=graph.fresh(base + "_MatMulInteger")),
            helper.make_node("Cast", [product], [product_float], to=TensorProto.FLOAT,
                             name=graph.fresh(base + "_cast")),
            helper.make_node("Mul", [a_scale, graph.add_initializer(scales, tensor.name + "_scale")], [scale],
                             name=graph.fresh(base + "_scales")),
            helper.make_node("Mul", [product_float, scale], list(node.output), name=graph.fresh(base + "_rescale")),
        ])
    graph.drop_unused_initializers()
    return model


def float_tensors(model):
    """Names of the float32 tensors: graph inputs, initializers, inferred value infos, Constant outputs, and the
    first output of each node whose first input is float (true of the fused com.microsoft ops ONNX's own shape
    inference does not know)."""
    floats = {t.name for t in model.graph.initializer if t.data_type == TensorProto.FLOAT}
    for info in list(model.graph.input) + list(model.graph.value_info) + list(model.graph.output):
        if info.type.tensor_type.elem_type == TensorProto.FLOAT:
            floats.add(info.name)
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
        floats |= {v.name for v in inferred.graph.value_info if v.type.tensor_type.elem_type == TensorProto.FLOAT}
    except Exception:  # inference is a help here, not a requirement
        pass
    for node in model.graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].t.data_type == TensorProto.FLOAT:
            floats.add(node.output[0])
        elif node.op_type == "Cast":
            if helper.get_attribute_value(node.attribute[0]) == TensorProto.FLOAT:
                floats.add(node.output[0])
        elif node.domain == MS_DOMAIN and node.input and node.input[0] in floats:
            floats.add(node.output[0])
    return floats


def half(tensor):
    array = numpy_helper.to_array(tensor)
    return numpy_helper.from_array(np.clip(array, -FP16_MAX, FP16_MAX).astype(np.float16), tensor.name)


def to_fp16(model, keep_fp32):
    """Every float32 tensor becomes float16, except around the ops in keep_fp32, whose float inputs are cast
    up and outputs cast down (their own initializers stay float32)."""
    floats = float_tensors(model)
    graph = Graph(model)
    kept = [n for n in graph.graph.node if n.op_type in keep_fp32]
    fp32_initializers = {i for n in kept for i in n.input if i in graph.initializers}
    fp32_initializers -= {i for n in graph.graph.node if n.op_type not in keep_fp32 for i in n.input}
    for i, tensor in enumerate(graph.graph.initializer):
        if tensor.data_type == TensorProto.FLOAT and tensor.name not in fp32_initializers:
            graph.graph.initializer[i].CopyFrom(half(tensor))
    for info in list(graph.graph.input) + list(graph.graph.output) + list(graph.graph.value_info):
        if info.type.tensor_type.elem_type == TensorProto.FLOAT:
            info.type.tensor_type.elem_type = TensorProto.FLOAT16
    for node in graph.graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.TENSOR and attribute.t.data_type == TensorProto.FLOAT:
                attribute.t.CopyFrom(half(attribute.t))
            elif node.op_type == "Cast" and attribute.name == "to" and attribute.i == TensorProto.FLOAT:
                attribute.i = TensorProto.FLOAT16
    for node in kept:
        up = []
        for name in node.input:
            if name in floats and name not in fp32_initializers and name:
                cast = graph.fresh(name + "_fp32")
                up.append(helper.make_node("Cast", [name], [cast], to=TensorProto.FLOAT, name=cast))
                node.input[list(node.input).index(name)] = cast
        down = []
        for j, name in enumerate(node.output):
            if name in floats:
                inner = graph.fresh(name + "_fp32")
                node.output[j] = inner
                down.append(helper.make_node("Cast", [inner], [name], to=TensorProto.FLOAT16, name=inner + "_cast"))
        replace_node(graph, node, up + [node] + down)
    return model


def quantize(model, layout, block_size=32, symmetric=True, accuracy_level=0, per_channel=False,
             lm_head="4", keep_fp32=(), last_logits=False):
    if last_logits:
        model = last_position_logits(model)
    if layout in ("fp16", "q4f16"):
        model = to_fp16(model, set(keep_fp32))
    if layout in ("q4", "q4f16"):
        model = to_q4(model, block_size, symmetric, accuracy_level, lm_head)
    if layout == "int8":
        model = to_int8(model, per_channel, lm_head)
    return model


def has_external_data(model):
    return any(t.data_location == TensorProto.EXTERNAL for t in model.graph.initializer)


def save(model, path, external):
    if external:
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=os.path.basename(path) + ".data", size_threshold=1024)
    else:
        onnx.save_model(model, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", help="the fp32 (or, for q4, fp16) decoder .onnx")
    parser.add_argument("out", help="the .onnx to write (e.g. model_q4.onnx beside it)")
    parser.add_argument("--layout", choices=LAYOUTS, required=True)
    parser.add_argument("--block-size", type=int, default=32, help="q4: values per scale along K (default 32)")
    parser.add_argument("--asymmetric", action="store_true", help="q4: a zero point per block")
    parser.add_argument("--accuracy-level", type=int, default=0, choices=range(5),
                        help="q4: MatMulNBits accuracy_level (4: int8 activations; default 0)")
    parser.add_argument("--per-channel", action="store_true", help="int8: one weight scale per output column")
    parser.add_argument("--lm-head", choices=("4", "8", "keep"), default="4",
                        help="q4: the LM head's bits (4, 8) or keep it as it is; int8: keep leaves it (default 4)")
    parser.add_argument("--keep-fp32", default="", help="fp16/q4f16: comma-separated op types kept float32")
    parser.add_argument("--last-logits", action="store_true",
                        help="the LM head projects the last position only (logits [batch, 1, vocab])")
    args = parser.parse_args(argv)
    if args.block_size < 16 or args.block_size & (args.block_size - 1):
        parser.error("--block-size must be a power of two, at least 16")
    if args.layout in ("q4", "q4f16") and args.lm_head == "8" and args.accuracy_level != 4:
        # ONNX Runtime 1.29's CPU kernels run 8-bit MatMulNBits only with int8 activations; otherwise it
        # dequantizes the whole weight on every pass (docs/models.md: over 50x slower decode with the LM head).
        parser.error("--lm-head 8 needs --accuracy-level 4")
    model = onnx.load(args.model)
    external = has_external_data(onnx.load(args.model, load_external_data=False))
    model = quantize(model, args.layout, args.block_size, not args.asymmetric, args.accuracy_level,
                     args.per_channel, args.lm_head, [op for op in args.keep_fp32.split(",") if op], args.last_logits)
    external = external or sum(len(t.raw_data) for t in model.graph.initializer) > 1_500_000_000
    save(model, args.out, external)
    print("%s: %s layout written to %s%s" % (args.model, args.layout, args.out,
                                             " (+ .data)" if external else ""), file=sys.stderr)


if __name__ == "__main__":
    main()

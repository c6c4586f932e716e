"""tools/model/quantize.py: the packing against a plain numpy reference, and each layout on a tiny graph."""
import unittest

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from tools.model import quantize
    MISSING = None
except ImportError as e:  # Debian's python3-onnx and python3-numpy
    MISSING = str(e)


def reference_unpack(packed, k):
    """Nibble by nibble, the slow way: value 2i is byte i's low nibble, value 2i+1 its high nibble."""
    n, blocks, half = packed.shape
    q = np.zeros((n, blocks * half * 2), dtype=np.int32)
    for col in range(n):
        for b in range(blocks):
            for i in range(half):
                byte = int(packed[col, b, i])
                q[col, b * half * 2 + 2 * i] = byte % 16
                q[col, b * half * 2 + 2 * i + 1] = byte // 16
    return q[:, :k]


def tiny_decoder():
    """input [1, 2, 40] → MatMul(W0 [40, 24]) → Relu → MatMul(W1 [24, 10]) named lm_head → logits."""
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((40, 24)).astype(np.float32)
    w1 = rng.standard_normal((24, 10)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w0"], ["h"], name="proj"),
         helper.make_node("Relu", ["h"], ["r"], name="relu"),
         helper.make_node("MatMul", ["r", "w1"], ["logits"], name="/lm_head/MatMul")],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 40])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 2, 10])],
        [numpy_helper.from_array(w0, "w0"), numpy_helper.from_array(w1, "w1")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), w0, w1


@unittest.skipIf(MISSING, "needs python3-onnx and python3-numpy (%s)" % MISSING)
class Quantize4BitTest(unittest.TestCase):

    def test_symmetric_packing_matches_the_nibble_by_nibble_reference(self):
        rng = np.random.default_rng(1)
        weight = rng.standard_normal((70, 5)).astype(np.float32)  # K not a multiple of the block
        packed, scales, zero_points = quantize.quantize_blocks(weight, 32, symmetric=True)
        self.assertEqual(packed.shape, (5, 3, 16))
        self.assertEqual(scales.shape, (15,))
        self.assertIsNone(zero_points)
        q = reference_unpack(packed, 70)
        expected = np.empty_like(weight)
        for col in range(5):
            for row in range(70):
                expected[row, col] = (q[col, row] - 8) * scales[col * 3 + row // 32]
        np.testing.assert_allclose(quantize.dequantize_blocks(packed, scales, None, 70, 32), expected,
                                   rtol=0, atol=1e-6)
        # Within half a step of each block's scale (a step, where the opposite extreme clips at code 15), and
        # the largest magnitude of each block exact.
        step = np.abs(scales.reshape(5, 3)).repeat(32, axis=1)[:, :70].T
        clipped = q.T == 15
        self.assertTrue(np.all(np.abs(expected - weight)[~clipped] <= step[~clipped] / 2 + 1e-6))
        self.assertTrue(np.all(np.abs(expected - weight)[clipped] <= step[clipped] + 1e-6))
        for col in range(5):
            block = weight[:32, col]
            extreme = block[np.abs(block).argmax()]
            self.assertAlmostEqual(float(expected[np.abs(block).argmax(), col]), float(extreme), places=5)

    def test_asymmetric_zero_points_are_packed_two_a_byte(self):
        rng = np.random.default_rng(2)
        weight = (rng.standard_normal((96, 4)) + 0.7).astype(np.float32)  # 3 blocks: an odd count
        packed, scales, zero_points = quantize.quantize_blocks(weight, 32, symmetric=False)
        self.assertEqual(zero_points.shape, (4 * 2,))
        q = reference_unpack(packed, 96)
        for col in range(4):
            for block in range(3):
                byte = int(zero_points[col * 2 + block // 2])
                zero = byte % 16 if block % 2 == 0 else byte // 16
                rows = slice(block * 32, block * 32 + 32)
                dequantized = (q[col, rows] - zero) * scales[col * 3 + block]
                np.testing.assert_allclose(dequantized, weight[rows, col], atol=abs(scales[col * 3 + block]) / 2
                                           + 1e-6)
                self.assertTrue(0 <= q[col, rows].min() and q[col, rows].max() <= 15)
        np.testing.assert_allclose(quantize.dequantize_blocks(packed, scales, zero_points, 96, 32),
                                   weight, atol=float(np.abs(scales).max()) / 2 + 1e-6)

    def test_8_bit_blocks_hold_one_value_a_byte(self):
        rng = np.random.default_rng(3)
        weight = rng.standard_normal((48, 3)).astype(np.float32)  # 2 blocks of 32, the second padded
        for symmetric in (True, False):
            packed, scales, zero_points = quantize.quantize_blocks(weight, 32, symmetric, bits=8)
            self.assertEqual(packed.shape, (3, 2, 32))
            if not symmetric:
                self.assertEqual(zero_points.shape, (6,))
            zero = np.full(6, 128) if symmetric else zero_points.astype(np.int32)
            expected = np.empty_like(weight)
            for col in range(3):
                for row in range(48):
                    block = col * 2 + row // 32
                    expected[row, col] = (int(packed[col, row // 32, row % 32]) - zero[block]) * scales[block]
            np.testing.assert_allclose(quantize.dequantize_blocks(packed, scales, zero_points, 48, 32, bits=8),
                                       expected, rtol=0, atol=1e-6)
            self.assertLess(float(np.abs(expected - weight).max()), float(np.abs(scales).max()) + 1e-6)

    def test_an_all_zero_block_stays_zero(self):
        weight = np.zeros((32, 2), dtype=np.float32)
        for symmetric in (True, False):
            packed, scales, zero_points = quantize.quantize_blocks(weight, 32, symmetric)
            self.assertTrue(np.all(quantize.dequantize_blocks(packed, scales, zero_points, 32, 32) == 0))


@unittest.skipIf(MISSING, "needs python3-onnx and python3-numpy (%s)" % MISSING)
class QuantizeInt8Test(unittest.TestCase):

    def test_per_tensor_and_per_channel_scales(self):
        weight = np.array([[1.0, -0.5], [-2.54, 0.25]], dtype=np.float32)
        q, scale = quantize.quantize_int8(weight, per_channel=False)
        self.assertAlmostEqual(float(scale), 2.54 / 127, places=7)
        np.testing.assert_array_equal(q, np.rint(weight / (2.54 / 127)).astype(np.int8))
        q, scales = quantize.quantize_int8(weight, per_channel=True)
        np.testing.assert_allclose(scales, [2.54 / 127, 0.5 / 127], rtol=1e-6)
        np.testing.assert_array_equal(q, [[50, -127], [-127, 64]])


@unittest.skipIf(MISSING, "needs python3-onnx and python3-numpy (%s)" % MISSING)
class LayoutTest(unittest.TestCase):

    def ops(self, model):
        return [(n.domain, n.op_type) for n in model.graph.node]

    def test_q4_replaces_each_weight_matmul_and_can_keep_the_lm_head(self):
        model, w0, _ = tiny_decoder()
        q4 = quantize.quantize(model, "q4", block_size=16, accuracy_level=4)
        self.assertEqual(self.ops(q4).count(("com.microsoft", "MatMulNBits")), 2)
        node = q4.graph.node[0]
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        self.assertEqual(attributes, dict(K=40, N=24, bits=4, block_size=16, accuracy_level=4))
        inits = {t.name: numpy_helper.to_array(t) for t in q4.graph.initializer}
        self.assertNotIn("w0", inits)
        dequantized = quantize.dequantize_blocks(inits[node.input[1]], inits[node.input[2]], None, 40, 16)
        self.assertLess(float(np.abs(dequantized - w0).max()), float(np.abs(w0).max()) / 8)
        kept = quantize.quantize(tiny_decoder()[0], "q4", lm_head="keep")
        self.assertEqual(self.ops(kept), [("com.microsoft", "MatMulNBits"), ("", "Relu"), ("", "MatMul")])
        onnx.checker.check_model(kept)
        eight = quantize.quantize(tiny_decoder()[0], "q4", lm_head="8")
        self.assertEqual([helper.get_attribute_value(a) for n in eight.graph.node for a in n.attribute
                          if a.name == "bits"], [4, 8])

    def test_int8_is_dynamic_quantization(self):
        for per_channel in (False, True):
            model = quantize.quantize(tiny_decoder()[0], "int8", per_channel=per_channel)
            self.assertEqual(self.ops(model)[:5], [("", "DynamicQuantizeLinear"), ("", "MatMulInteger"),
                                                   ("", "Cast"), ("", "Mul"), ("", "Mul")])
            self.assertEqual(model.graph.node[4].output[0], "h")
            onnx.checker.check_model(model)
            inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
            self.assertEqual(inits[model.graph.node[1].input[1]].dtype, np.int8)
            self.assertEqual(inits[model.graph.node[1].input[3]].shape, (24,) if per_channel else ())

    def test_fp16_converts_io_and_weights_and_keeps_named_ops_in_fp32(self):
        model = quantize.quantize(tiny_decoder()[0], "fp16", keep_fp32=["Relu"])
        self.assertEqual(model.graph.input[0].type.tensor_type.elem_type, TensorProto.FLOAT16)
        self.assertEqual(model.graph.output[0].type.tensor_type.elem_type, TensorProto.FLOAT16)
        self.assertTrue(all(t.data_type == TensorProto.FLOAT16 for t in model.graph.initializer))
        self.assertEqual(self.ops(model), [("", "MatMul"), ("", "Cast"), ("", "Relu"), ("", "Cast"), ("", "MatMul")])
        self.assertEqual([helper.get_attribute_value(n.attribute[0]) for n in model.graph.node if n.op_type == "Cast"],
                         [TensorProto.FLOAT, TensorProto.FLOAT16])
        onnx.checker.check_model(model)

    def test_q4f16_has_float16_scales(self):
        model = quantize.quantize(tiny_decoder()[0], "q4f16")
        inits = {t.name: t for t in model.graph.initializer}
        node = model.graph.node[0]
        self.assertEqual(node.op_type, "MatMulNBits")
        self.assertEqual(inits[node.input[2]].data_type, TensorProto.FLOAT16)
        self.assertEqual(model.graph.input[0].type.tensor_type.elem_type, TensorProto.FLOAT16)

    def test_last_logits_slices_the_lm_head_input_to_the_last_position(self):
        for layout in ("fp32", "q4"):
            model = quantize.quantize(tiny_decoder()[0], layout, last_logits=True)
            head = model.graph.node[-1]
            self.assertEqual(self.ops(model)[-2][1], "Slice")
            self.assertEqual(head.input[0], model.graph.node[-2].output[0])
            self.assertEqual(model.graph.node[-2].input[0], "r")
            inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
            self.assertEqual([int(inits[name][0]) for name in model.graph.node[-2].input[1:]],
                             [-1, np.iinfo(np.int64).max, 1])
            self.assertEqual([d.dim_value for d in model.graph.output[0].type.tensor_type.shape.dim], [1, 1, 10])
            onnx.checker.check_model(model)
        self.assertEqual(self.ops(quantize.quantize(tiny_decoder()[0], "q4", last_logits=True))[-1],
                         ("com.microsoft", "MatMulNBits"))


if __name__ == "__main__":
    unittest.main()

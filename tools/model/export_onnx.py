"""Export a LlamaLM to ONNX in the Hugging Face optimum Llama/Qwen2 decoder layout.

inputs : input_ids int64 [batch, seq], attention_mask int64 [batch, past_seq+seq],
         position_ids int64 [batch, seq],
         past_key_values.{i}.key / .value float32 [batch, kv_heads, past_seq, head_dim]
outputs: logits float32 [batch, seq, vocab],
         present.{i}.key / .value float32 [batch, kv_heads, past_seq+seq, head_dim]
"""
import argparse
import glob
import json
import os
import shutil
import tempfile

import torch

from .llama import LlamaLM, ModelConfig, OnnxWrapper

OPSET = 14


def io_names(n_layers):
    inputs = ["input_ids", "attention_mask", "position_ids"]
    outputs = ["logits"]
    for i in range(n_layers):
        inputs += [f"past_key_values.{i}.key", f"past_key_values.{i}.value"]
        outputs += [f"present.{i}.key", f"present.{i}.value"]
    return inputs, outputs


def dynamic_axes(n_layers):
    axes = {
        "input_ids": {0: "batch_size", 1: "sequence_length"},
        "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
        "position_ids": {0: "batch_size", 1: "sequence_length"},
        "logits": {0: "batch_size", 1: "sequence_length"},
    }
    for i in range(n_layers):
        for kind in ("key", "value"):
            axes[f"past_key_values.{i}.{kind}"] = {0: "batch_size", 2: "past_sequence_length"}
            axes[f"present.{i}.{kind}"] = {0: "batch_size", 2: "total_sequence_length"}
    return axes


def export(model: LlamaLM, out_path: str, external_data: bool = False):
    """Write out_path (model.onnx); with external_data, weights go to <out_path>.data."""
    cfg = model.cfg
    model.eval()
    wrapper = OnnxWrapper(model)
    # trace with batch 2, seq 3, past 4 so no dynamic dim is specialised to a constant
    b, s, p = 2, 3, 4
    input_ids = torch.randint(0, min(cfg.vocab_size, 100), (b, s), dtype=torch.long)
    attention_mask = torch.ones(b, p + s, dtype=torch.long)
    position_ids = torch.arange(p, p + s, dtype=torch.long).unsqueeze(0).repeat(b, 1)
    past = []
    for _ in range(cfg.num_hidden_layers):
        past.append(torch.randn(b, cfg.num_key_value_heads, p, cfg.head_dim))
        past.append(torch.randn(b, cfg.num_key_value_heads, p, cfg.head_dim))
    inputs, outputs = io_names(cfg.num_hidden_layers)
    args = (input_ids, attention_mask, position_ids, *past)
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    if not external_data:
        with torch.no_grad():
            torch.onnx.export(wrapper, args, out_path, input_names=inputs, output_names=outputs,
                              dynamic_axes=dynamic_axes(cfg.num_hidden_layers), opset_version=OPSET,
                              do_constant_folding=True)
        import onnx
        m = onnx.load(out_path)
        onnx.checker.check_model(m)
        return
    # large model: torch writes one file per tensor beside the graph when > 2 GB;
    # export into a scratch dir, then consolidate into model.onnx + model.onnx.data
    import onnx
    tmp = tempfile.mkdtemp(prefix="onnx-export-", dir=os.path.dirname(os.path.abspath(out_path)))
    try:
        tmp_path = os.path.join(tmp, "model.onnx")
        with torch.no_grad():
            torch.onnx.export(wrapper, args, tmp_path, input_names=inputs, output_names=outputs,
                              dynamic_axes=dynamic_axes(cfg.num_hidden_layers), opset_version=OPSET,
                              do_constant_folding=True)
        del wrapper
        m = onnx.load(tmp_path, load_external_data=True)
        data_name = os.path.basename(out_path) + ".data"
        for f in (out_path, os.path.join(os.path.dirname(out_path), data_name)):
            if os.path.exists(f):
                os.remove(f)
        onnx.save_model(m, out_path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=data_name, size_threshold=1024)
        del m
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    onnx.checker.check_model(out_path)  # path form: works for > 2 GB models


def check_layout(path: str, cfg: ModelConfig):
    """Assert the graph's I/O names, dtypes and symbolic dims match the optimum layout."""
    import onnx
    m = onnx.load(path, load_external_data=False)
    TP = onnx.TensorProto
    ins = {i.name: i for i in m.graph.input}
    outs = {o.name: o for o in m.graph.output}
    exp_in, exp_out = io_names(cfg.num_hidden_layers)
    assert [i.name for i in m.graph.input] == exp_in, [i.name for i in m.graph.input]
    assert [o.name for o in m.graph.output] == exp_out, [o.name for o in m.graph.output]

    def dims(v):
        return [d.dim_param if d.dim_param else d.dim_value for d in v.type.tensor_type.shape.dim]

    for n in ("input_ids", "attention_mask", "position_ids"):
        assert ins[n].type.tensor_type.elem_type == TP.INT64, n
        assert all(isinstance(d, str) for d in dims(ins[n])), (n, dims(ins[n]))
    for i in range(cfg.num_hidden_layers):
        for kind in ("key", "value"):
            pi = ins[f"past_key_values.{i}.{kind}"]
            po = outs[f"present.{i}.{kind}"]
            assert pi.type.tensor_type.elem_type == TP.FLOAT
            assert po.type.tensor_type.elem_type == TP.FLOAT
            d = dims(pi)
            assert isinstance(d[0], str) and d[1] == cfg.num_key_value_heads and isinstance(d[2], str) \
                and d[3] == cfg.head_dim, d
            d = dims(po)
            assert d[1] == cfg.num_key_value_heads and d[3] == cfg.head_dim, d
    lg = dims(outs["logits"])
    assert outs["logits"].type.tensor_type.elem_type == TP.FLOAT
    assert isinstance(lg[0], str) and isinstance(lg[1], str) and lg[2] == cfg.vocab_size, lg
    return True


def main():
    ap = argparse.ArgumentParser(description="export a checkpoint (from train.py) to ONNX")
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--out", required=True, help="output directory")
    a = ap.parse_args()
    ck = torch.load(a.checkpoint, map_location="cpu")
    cfg = ModelConfig.from_dict(ck["config"])
    model = LlamaLM(cfg)
    model.load_state_dict(ck["model"])
    path = os.path.join(a.out, "model.onnx")
    export(model, path)
    check_layout(path, cfg)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(cfg.hf_config(), f, indent=2)
    print("exported", path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()

"""Read a bundled model.onnx back into a train.py checkpoint, so that training can go on from the shipped
weights (train.py --init-checkpoint) without rebuilding them: a training run's own checkpoints live in a work
directory that a fresh checkout does not have.

torch.onnx.export keeps the embedding and norm weights under their names but stores every Linear weight
transposed under a generated name, in the order forward() first uses them: per layer q, k, v, o, gate, up,
down, then the tied head (the embedding again, which is dropped). The order is checked, not trusted: the
rebuilt model must reproduce the torch reference's greedy tokens (verify/reference.json).
"""
import argparse
import json
import os

import onnx
import torch
from onnx import numpy_helper

from .llama import LlamaLM, ModelConfig, greedy_generate

LINEARS = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]


def state_dict_of(onnx_path, cfg):
    named, transposed = {}, []
    for init in onnx.load(onnx_path).graph.initializer:
        weight = torch.from_numpy(numpy_helper.to_array(init).copy())
        if init.name.startswith("model."):
            named[init.name[len("model."):]] = weight
        else:
            transposed.append(weight.t().contiguous())
    expected = cfg.num_hidden_layers * len(LINEARS) + (1 if cfg.tie_word_embeddings else 0)
    if len(transposed) != expected:
        raise SystemExit(f"{onnx_path}: {len(transposed)} unnamed weights, expected {expected}")
    for layer in range(cfg.num_hidden_layers):
        for j, name in enumerate(LINEARS):
            named[f"layers.{layer}.{name}.weight"] = transposed[layer * len(LINEARS) + j]
    return named


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", required=True, help="a bundled model directory (model.onnx, config.json)")
    ap.add_argument("--reference", required=True, help="the torch reference bundle.py wrote for that model")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    with open(os.path.join(a.model_dir, "config.json")) as f:
        cfg = ModelConfig.from_dict(json.load(f))
    model = LlamaLM(cfg)
    model.load_state_dict(state_dict_of(os.path.join(a.model_dir, "model.onnx"), cfg))
    with open(a.reference) as f:
        ref = json.load(f)
    for i in range(ref["num_cases"]):
        want = ref[f"greedy_ids_{i}"]
        got = greedy_generate(model, ref[f"prompt_ids_{i}"], len(want))
        if got != want:
            raise SystemExit(f"case {i}: rebuilt weights say {got}, the reference {want}")
    torch.save({"config": json.loads(cfg.to_json()), "model": model.state_dict()}, a.out)
    print(f"{a.out}: {model.num_params()} parameters, the reference's {ref['num_cases']} greedy replies reproduced")


if __name__ == "__main__":
    main()

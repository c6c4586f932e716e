"""Random-weight decoders with the exact shapes of real small LLMs, for kvshare benchmarks.

Same ONNX layout as the bundled model (optimum Llama/Qwen2: past_key_values.{i}.key/value ->
present.{i}.key/value, int64 ids, fp32 KV and logits), weights in ONNX external data
(model.onnx + model.onnx.data) because the graphs exceed protobuf's 2 GB limit.  fp32 throughout:
the simplest and exactly what the bundled model uses (fp16 would halve disk and memory; the engine
accepts both).  The bundled tokenizer files are copied in, its vocabulary padded with filler tokens
(" ~<id>") up to the model's, so that every id the random weights pick decodes to some text; the model's
vocabulary (embedding / logits width) is the real one.

  /usr/bin/python3 -m tools.model.make_bench_models [qwen2.5-0.5b|llama3.2-1b|all] [--out models/bench]
"""
import argparse
import json
import os
import shutil
import time

import torch

from .export_onnx import check_layout, export
from .llama import LlamaLM, ModelConfig

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
BUNDLED = os.path.join(ROOT, "src", "main", "resources", "kvshare", "bundled-model")

SHAPES = {
    # Qwen/Qwen2.5-0.5B-Instruct: 24 layers, hidden 896, 14 q heads, 2 kv heads, q/k/v biases, tied
    "qwen2.5-0.5b": dict(model_type="qwen2", vocab_size=151936, hidden_size=896, intermediate_size=4864,
                         num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2, head_dim=64,
                         max_position_embeddings=32768, rms_norm_eps=1e-6, rope_theta=1000000.0,
                         tie_word_embeddings=True, attention_bias=True),
    # meta-llama/Llama-3.2-1B-Instruct: 16 layers, hidden 2048, 32 q heads, 8 kv heads, tied
    # (its llama3 rope scaling is not modelled: irrelevant for random weights)
    "llama3.2-1b": dict(model_type="llama", vocab_size=128256, hidden_size=2048, intermediate_size=8192,
                        num_hidden_layers=16, num_attention_heads=32, num_key_value_heads=8, head_dim=64,
                        max_position_embeddings=131072, rms_norm_eps=1e-5, rope_theta=500000.0,
                        tie_word_embeddings=True, attention_bias=False),
    # tiny shape with the same code path, for a quick self-test
    "debug": dict(model_type="qwen2", vocab_size=151936, hidden_size=64, intermediate_size=128,
                  num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                  tie_word_embeddings=True, attention_bias=True),
}


def pad_vocabulary(tokenizer_json: str, vocab_size: int):
    """Gives every id the model can emit a text (" ~<id>"): random weights pick ids all over the real
    vocabulary, and ids the copied tokenizer lacks would decode to nothing, so streams would carry no text
    (the concurrency benchmark times text chunks). Encoding is unchanged: no merge produces these tokens."""
    with open(tokenizer_json) as f:
        tokenizer = json.load(f)
    vocab = tokenizer["model"]["vocab"]
    taken = set(vocab.values()) | {t["id"] for t in tokenizer.get("added_tokens", [])}
    for i in range(vocab_size):
        if i not in taken:
            vocab["\u0120~%d" % i] = i  # \u0120 is the byte-level BPE spelling of a space
    with open(tokenizer_json, "w") as f:
        json.dump(tokenizer, f, ensure_ascii=False)


def make(name: str, out_root: str, tokenizer_dir: str):
    t0 = time.time()
    tok_cfg = json.load(open(os.path.join(tokenizer_dir, "config.json"))) \
        if os.path.exists(os.path.join(tokenizer_dir, "config.json")) else {}
    cfg = ModelConfig(name=f"kvshare-bench-{name}-random", eos_token_id=tok_cfg.get("eos_token_id", 2),
                      pad_token_id=tok_cfg.get("pad_token_id", 0), **SHAPES[name])
    torch.manual_seed(0)
    with torch.no_grad():
        model = LlamaLM(cfg)
        model.init_weights()
    n = model.num_params()
    print(f"{name}: {n / 1e6:.1f}M params, initialised in {time.time() - t0:.0f}s", flush=True)
    out = os.path.join(out_root, name)
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "model.onnx")
    export(model, path, external_data=True)
    del model
    check_layout(path, cfg)
    hf = cfg.hf_config()
    hf["_comment"] = "random weights with the exact shapes of the named model; for benchmarks only"
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(hf, f, indent=2)
    for fn in ("tokenizer.json", "tokenizer_config.json", "generation_config.json"):
        shutil.copyfile(os.path.join(tokenizer_dir, fn), os.path.join(out, fn))
    pad_vocabulary(os.path.join(out, "tokenizer.json"), cfg.vocab_size)
    sizes = {f: os.path.getsize(os.path.join(out, f)) for f in sorted(os.listdir(out))}
    print(f"{name}: wrote {out} in {time.time() - t0:.0f}s {sizes}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("which", nargs="?", default="all", choices=["all"] + list(SHAPES))
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "bench"))
    ap.add_argument("--tokenizer", default=BUNDLED, help="directory with the tokenizer files to copy")
    a = ap.parse_args()
    torch.set_num_threads(2)
    names = ["qwen2.5-0.5b", "llama3.2-1b"] if a.which == "all" else [a.which]
    for n in names:
        make(n, a.out, a.tokenizer)


if __name__ == "__main__":
    main()

"""Export a trained checkpoint as a kvshare model directory and write the verifier's reference.

Writes <out>/model.onnx, config.json, generation_config.json, tokenizer.json, tokenizer_config.json;
<reference> (JSON read by verify/Verify.java: prompt ids, torch greedy ids, torch last logits);
and prints greedy sample replies (also saved beside the checkpoint as samples.json).
"""
import argparse
import json
import os
import shutil

import torch

from .bpe_tokenizer import BPETokenizer, apply_chat_template
from .export_onnx import check_layout, export
from .llama import LlamaLM, greedy_generate
from .train import load_trained, model_config

# greedy samples under the README's support-bot system prompt (docs/examples/support-prompt.txt)
SAMPLE_PROMPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "examples",
                             "support-prompt.txt")
SAMPLE_QUESTIONS = [
    "Where is my order 4417203?",
    "I want to return the air fryer from order 5520981.",
    "I forgot my password and can't log in.",
    "I want to talk to a human.",
    "Can you write me a poem about the sea?",
    "Wo ist meine Bestellung?",
]
REFERENCE_PROMPTS = [
    [{"role": "user", "content": "Where is my order 417263?"}],
    [{"role": "user", "content": "How do I return the desk lamp?"}],
    [{"role": "system", "content": "You are a helpful customer support assistant."},
     {"role": "user", "content": "My package is late. Order 300512."}],
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", help="from train.py, or its <out>.resume mid-way; omit with --random-init")
    ap.add_argument("--random-init", action="store_true", help="untrained weights (preliminary bundle)")
    ap.add_argument("--config", default=None,
                    help="ModelConfig overrides (JSON) for --random-init, or train.py's --config for a .resume that keeps none")
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--corpus", default=None)
    ap.add_argument("--out", required=True)
    ap.add_argument("--reference", default=None)
    ap.add_argument("--max-new-tokens", type=int, default=120)
    ap.add_argument("--temperature", type=float, default=None,
                    help="generation_config.json temperature: the service's default for requests without one")
    ap.add_argument("--top-p", type=float, default=None, help="generation_config.json top_p (likewise)")
    a = ap.parse_args()
    torch.set_num_threads(2)
    tok = BPETokenizer.load(os.path.join(a.tokenizer, "tokenizer.json"))
    if a.random_init:
        torch.manual_seed(0)
        cfg = model_config(tok, a.config)
        model = LlamaLM(cfg)
        model.init_weights()
    else:
        model = load_trained(a.checkpoint, tok, a.config)
        cfg = model.cfg
    model.eval()
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, "model.onnx")
    export(model, path)
    check_layout(path, cfg)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(cfg.hf_config(), f, indent=2)
    eos = [tok.token_id("<|im_end|>"), tok.token_id("<|endoftext|>")]
    gen = {
        "_from_model_config": True,
        "bos_token_id": cfg.bos_token_id,
        "eos_token_id": eos,
        "pad_token_id": tok.token_id("<|endoftext|>"),
        "do_sample": a.temperature is not None and a.temperature > 0,
        "max_new_tokens": 256,
        "repetition_penalty": 1.0,
        "transformers_version": "4.44.0",
    }
    if a.temperature is not None:
        gen["temperature"] = a.temperature
    if a.top_p is not None:
        gen["top_p"] = a.top_p
    with open(os.path.join(a.out, "generation_config.json"), "w") as f:
        json.dump(gen, f, indent=2)
    for fn in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(os.path.join(a.tokenizer, fn), os.path.join(a.out, fn))
    print("wrote", a.out, {f: os.path.getsize(os.path.join(a.out, f)) for f in sorted(os.listdir(a.out))})

    if a.reference:
        ref = {"model": cfg.name, "num_cases": len(REFERENCE_PROMPTS)}
        for i, msgs in enumerate(REFERENCE_PROMPTS):
            ids = tok.encode(apply_chat_template(msgs, add_generation_prompt=True))
            with torch.no_grad():
                n = len(ids)
                logits, _ = model(torch.tensor([ids]), torch.ones(1, n, dtype=torch.long),
                                  torch.arange(n).unsqueeze(0), None)
            full = greedy_generate(model, ids, 20, eos_ids=(), use_cache=False)
            cached = greedy_generate(model, ids, 20, eos_ids=(), use_cache=True)
            assert full == cached, (full, cached)
            ref[f"prompt_text_{i}"] = apply_chat_template(msgs, add_generation_prompt=True)
            ref[f"prompt_ids_{i}"] = ids
            ref[f"greedy_ids_{i}"] = full
            ref[f"greedy_text_{i}"] = tok.decode(full, skip_special=False)
            ref[f"last_logits_{i}"] = [round(float(x), 6) for x in logits[0, -1]]
        os.makedirs(os.path.dirname(os.path.abspath(a.reference)), exist_ok=True)
        with open(a.reference, "w") as f:
            json.dump(ref, f)
        print("reference ->", a.reference)

    samples = []
    with open(SAMPLE_PROMPT, encoding="utf-8") as f:
        system = f.read().strip()
    for q in SAMPLE_QUESTIONS:
        prompt = apply_chat_template([{"role": "system", "content": system}, {"role": "user", "content": q}],
                                     add_generation_prompt=True)
        out = greedy_generate(model, tok.encode(prompt), a.max_new_tokens, eos_ids=eos)
        reply = tok.decode(out)
        samples.append({"user": q, "assistant": reply})
        print(f"USER: {q}\nASSISTANT: {reply}\n")
    if a.checkpoint:
        with open(os.path.join(os.path.dirname(os.path.abspath(a.checkpoint)), "samples.json"), "w") as f:
            json.dump(samples, f, indent=2)


if __name__ == "__main__":
    main()

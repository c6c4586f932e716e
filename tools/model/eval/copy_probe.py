"""Teacher-forced copy probe: how often the model's top token is right on the number tokens of assistant replies.

Digits in a reply are nearly all copies (order numbers, prices, days from the prompt or the conversation), so
this tracks the copying circuit in about a minute, without serving the model — a check to run every few hundred
training steps, where the HTTP evaluation (eval.py) takes ten. Chance is 1 in 10 (single-digit tokens) or 1 in
110 (two-digit tokens too).

  /usr/bin/python3 tools/model/eval/copy_probe.py --checkpoint tools/model/work/checkpoint.pt \
      --tokenizer tools/model/work/tokenizer --heldout tools/model/work/corpus/heldout.jsonl --limit 60
A training run's <out>.resume works too (its config comes from --config, as given to train.py).
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bpe_tokenizer import BPETokenizer  # noqa: E402
from copy_practice import number_ids  # noqa: E402
from llama import LlamaLM, ModelConfig  # noqa: E402
from train import assistant_mask, model_config  # noqa: E402


def load_model(path, config_json, tok):
    state = torch.load(path, map_location="cpu")
    if "config" in state:
        cfg = ModelConfig.from_dict(state["config"])
    else:
        cfg = model_config(tok, config_json)
    model = LlamaLM(cfg)
    model.load_state_dict(state["model"])
    return model.eval()


@torch.no_grad()
def digit_accuracy(model, tok, texts):
    digits = torch.tensor(number_ids(tok))
    ok = total = 0
    for text in texts:
        ids = tok.encode(text)[:model.cfg.max_position_embeddings]
        target = torch.tensor(ids[1:])
        wanted = torch.tensor(assistant_mask(ids, tok)[1:], dtype=torch.bool) & torch.isin(target, digits)
        if not wanted.any():
            continue
        x = torch.tensor([ids])
        logits, _ = model(x, torch.ones_like(x), torch.arange(len(ids)).unsqueeze(0), None)
        ok += int((logits[0, :-1].argmax(-1) == target)[wanted].sum())
        total += int(wanted.sum())
    return ok, total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--config", default=None, help="ModelConfig overrides of a .resume file, as given to train.py")
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--heldout", required=True)
    ap.add_argument("--limit", type=int, default=60)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    tok = BPETokenizer.load(os.path.join(a.tokenizer, "tokenizer.json"))
    model = load_model(a.checkpoint, a.config, tok)
    with open(a.heldout, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for _, line in zip(range(a.limit), f)]
    ok, total = digit_accuracy(model, tok, texts)
    print(f"number-token accuracy in assistant replies (teacher-forced): {ok}/{total} = {ok / max(total, 1):.1%}")


if __name__ == "__main__":
    main()

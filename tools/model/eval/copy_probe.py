"""Teacher-forced copy probe: how often the model's top token is right on what assistant turns copy.

Digits in a reply are nearly all copies (order numbers, prices, days from the prompt or the conversation), and so
are tool-call argument values; their first token is scored apart from the rest, because a value said after a
space (" kofi") starts with another token (" k") than the same value in a JSON string ("k"). This tracks the
copying circuit in about a minute, without serving the model — a check to run every few hundred
training steps, where the HTTP evaluation (eval.py) takes ten. Chance is 1 in 10 (single-digit tokens) or 1 in
110 (two-digit tokens too).

  /usr/bin/python3 -m tools.model.eval.copy_probe --checkpoint tools/model/work/checkpoint.pt \
      --tokenizer tools/model/work/tokenizer --heldout tools/model/work/corpus/heldout.jsonl --limit 60
A training run's <out>.resume works too (its config comes from --config, as given to train.py).

It also asks for a keyed fact's value from 0 to 2,000 tokens after the fact (the rows of recall practice,
copy_practice.RecallPractice): the distance over which the copying works, which the held-out replies mix.
"""
import argparse
import json
import os
import random

import torch

from ..bpe_tokenizer import BPETokenizer
from ..copy_practice import IGNORED, CopyPractice, RecallPractice, number_ids
from ..train import assistant_mask, load_trained


def argument_value_positions(ids, tok):
    """Positions of the tokens of tool-call argument values: the first token of each, and the others.

    A value follows `": "` (the tokens `":` and ` "`) and ends at the token that closes its string. The
    value of "name" is the tool, not a copy, so it is left out.
    """
    colon, quote, name = (one_token(tok, text) for text in ('":', ' "', "name"))
    first, rest = [], []
    i = 2
    while i < len(ids):
        if ids[i - 1] == quote and ids[i - 2] == colon and (i < 3 or ids[i - 3] != name):
            first.append(i)
            i += 1
            while i < len(ids) and '"' not in tok.decode([ids[i]]):
                rest.append(i)
                i += 1
        i += 1
    return first, rest


def one_token(tok, text):
    (token,) = tok.encode(text)
    return token


@torch.no_grad()
def copy_accuracy(model, tok, texts):
    """(right, scored) for the number tokens of replies, and for the first and the other tokens of tool-call
    argument values, all in assistant turns and teacher-forced."""
    digits = torch.tensor(number_ids(tok))
    scores = {"numbers": [0, 0], "argument first tokens": [0, 0], "argument other tokens": [0, 0]}
    for text in texts:
        ids = tok.encode(text)[:model.cfg.max_position_embeddings]
        target = torch.tensor(ids[1:])
        in_reply = torch.tensor(assistant_mask(ids, tok)[1:], dtype=torch.bool)
        first, rest = argument_value_positions(ids, tok)
        wanted = {"numbers": in_reply & torch.isin(target, digits),
                  "argument first tokens": in_reply & positions_mask(first, len(target)),
                  "argument other tokens": in_reply & positions_mask(rest, len(target))}
        if not any(w.any() for w in wanted.values()):
            continue
        x = torch.tensor([ids])
        logits, _ = model(x, torch.ones_like(x), torch.arange(len(ids)).unsqueeze(0), None)
        right = logits[0, :-1].argmax(-1) == target
        for kind, w in wanted.items():
            scores[kind][0] += int(right[w].sum())
            scores[kind][1] += int(w.sum())
    return scores


def positions_mask(positions, length):
    """A mask over the targets (ids[1:]) that marks the given token positions of ids."""
    mask = torch.zeros(length, dtype=torch.bool)
    mask[[p - 1 for p in positions]] = True
    return mask


DISTANCES = (0, 100, 400, 1000, 2000)


@torch.no_grad()
def recall_by_distance(model, tok, trials, seed=11):
    """{distance: (value tokens right, asked)}: one fact, other facts filling the distance, then its key again."""
    recall = RecallPractice(CopyPractice(tok, seed, 1), seed, 1)
    r, scores = random.Random(seed), {}
    for distance in DISTANCES:
        right = asked = 0
        for _ in range(trials):
            keys = set()
            key, value = recall.fact(r, keys)
            ids = [recall.copier.sep] + key + value
            while len(ids) < distance + 1 + len(key) + len(value):
                filler_key, filler_value = recall.fact(r, keys)
                ids += [recall.copier.sep] + filler_key + filler_value
            ids += [recall.copier.sep] + key
            labels = [IGNORED] * (len(ids) - 1) + value
            ids += value
            x = torch.tensor([ids])
            logits, _ = model(x, torch.ones_like(x), torch.arange(len(ids)).unsqueeze(0), None)
            predicted = logits[0, :-1].argmax(-1).tolist()
            scored = [(p, t) for p, t in zip(predicted, labels) if t != IGNORED]
            right += sum(p == t for p, t in scored)
            asked += len(scored)
        scores[distance] = (right, asked)
    return scores


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--config", default=None, help="ModelConfig overrides of a .resume file, as given to train.py")
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--heldout", required=True)
    ap.add_argument("--limit", type=int, default=60)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--recall-trials", type=int, default=8, help="facts asked for at each distance")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    tok = BPETokenizer.load(os.path.join(a.tokenizer, "tokenizer.json"))
    model = load_trained(a.checkpoint, tok, a.config)
    with open(a.heldout, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for _, line in zip(range(a.limit), f)]
    for kind, (ok, total) in copy_accuracy(model, tok, texts).items():
        print(f"{kind} in assistant turns (teacher-forced): {ok}/{total} = {ok / max(total, 1):.1%}")
    for distance, (ok, total) in recall_by_distance(model, tok, a.recall_trials).items():
        print(f"a fact's value asked for {distance} tokens after it (teacher-forced): {ok}/{total} = "
              f"{ok / max(total, 1):.1%}")


if __name__ == "__main__":
    main()

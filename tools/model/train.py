"""Train the bundled support model on CPU (fixed seed, 2 threads, fixed step count -> reproducible).

  /usr/bin/python3 tools/model/train.py --corpus build/corpus --tokenizer build/tokenizer \
      --out build/checkpoint.pt --steps 2400
"""
import argparse
import json
import math
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bpe_tokenizer import BPETokenizer  # noqa: E402
from llama import LlamaLM, ModelConfig  # noqa: E402


def load_ids(path, tok, max_len):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            ids = tok.encode(json.loads(line)["text"])
            out.append(ids[:max_len])
    return out


def make_batches(seqs, tokens_per_batch, rng):
    """Length-bucketed batches of roughly tokens_per_batch (padded) tokens, shuffled."""
    order = sorted(range(len(seqs)), key=lambda i: (len(seqs[i]), i))
    batches, cur, cur_max = [], [], 0
    for i in order:
        L = len(seqs[i])
        if cur and max(cur_max, L) * (len(cur) + 1) > tokens_per_batch:
            batches.append(cur)
            cur, cur_max = [], 0
        cur.append(i)
        cur_max = max(cur_max, L)
    if cur:
        batches.append(cur)
    rng.shuffle(batches)
    return batches


def collate(seqs, idx, pad_id):
    L = max(len(seqs[i]) for i in idx)
    ids = torch.full((len(idx), L), pad_id, dtype=torch.long)
    mask = torch.zeros((len(idx), L), dtype=torch.long)
    for r, i in enumerate(idx):
        s = seqs[i]
        ids[r, :len(s)] = torch.tensor(s)
        mask[r, :len(s)] = 1
    pos = torch.arange(L).unsqueeze(0).expand(len(idx), L)
    return ids, mask, pos


def lm_loss(model, ids, mask, pos):
    logits, _ = model(ids, mask, pos, None)
    tgt = ids[:, 1:].masked_fill(mask[:, 1:] == 0, -100)
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=-100,
                           reduction="sum"), int((tgt != -100).sum())


@torch.no_grad()
def evaluate(model, seqs, pad_id, tokens_per_batch=8192):
    model.eval()
    tot, n = 0.0, 0
    for idx in make_batches(seqs, tokens_per_batch, random.Random(0)):
        l, c = lm_loss(model, *collate(seqs, idx, pad_id))
        tot += float(l)
        n += c
    model.train()
    return tot / max(n, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--config", default=None, help="JSON of ModelConfig overrides")
    ap.add_argument("--steps", type=int, default=2400)
    ap.add_argument("--tokens-per-batch", type=int, default=4096)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-len", type=int, default=384)
    ap.add_argument("--init-checkpoint", default=None,
                    help="continue from this checkpoint (its config wins over --config; fresh optimizer)")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    tok = BPETokenizer.load(os.path.join(a.tokenizer, "tokenizer.json"))
    overrides = json.loads(a.config) if a.config else {}
    init = torch.load(a.init_checkpoint, map_location="cpu") if a.init_checkpoint else None
    if init is not None:
        cfg = ModelConfig.from_dict(init["config"])
    else:
        cfg = ModelConfig(vocab_size=len(tok.vocab), eos_token_id=tok.token_id("<|im_end|>"),
                          pad_token_id=tok.token_id("<|endoftext|>"), **overrides)
    pad_id = cfg.pad_token_id
    t0 = time.time()
    train = load_ids(os.path.join(a.corpus, "train.jsonl"), tok, a.max_len)
    held = load_ids(os.path.join(a.corpus, "heldout.jsonl"), tok, a.max_len)
    n_tok = sum(len(s) for s in train)
    print(f"tokenized in {time.time() - t0:.1f}s: train {len(train)} dialogues / {n_tok} tokens, "
          f"held-out {len(held)} dialogues / {sum(len(s) for s in held)} tokens", flush=True)

    model = LlamaLM(cfg)
    g = torch.Generator().manual_seed(a.seed)
    model.init_weights(g)
    if init is not None:
        model.load_state_dict(init["model"])
        print(f"continuing from {a.init_checkpoint}", flush=True)
    print(f"params {model.num_params()}", flush=True)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.95), eps=1e-8)

    def lr_at(step):
        if step < a.warmup:
            return a.lr * (step + 1) / a.warmup
        p = (step - a.warmup) / max(1, a.steps - a.warmup)
        return a.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))

    rng = random.Random(a.seed)
    batches, bi, epoch = make_batches(train, a.tokens_per_batch, rng), 0, 0
    model.train()
    t_start = time.time()
    seen = 0
    log = []
    run_loss, run_n = 0.0, 0
    for step in range(a.steps):
        if bi >= len(batches):
            batches, bi, epoch = make_batches(train, a.tokens_per_batch, rng), 0, epoch + 1
        ids, mask, pos = collate(train, batches[bi], pad_id)
        bi += 1
        for gp in opt.param_groups:
            gp["lr"] = lr_at(step)
        loss_sum, n = lm_loss(model, ids, mask, pos)
        loss = loss_sum / n
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        seen += n
        run_loss += float(loss_sum)
        run_n += n
        if (step + 1) % 50 == 0 or step == 0:
            el = time.time() - t_start
            print(f"step {step + 1}/{a.steps} epoch {epoch} loss {run_loss / run_n:.4f} lr {lr_at(step):.2e} "
                  f"tokens {seen} elapsed {el:.0f}s ({seen / el:.0f} tok/s)", flush=True)
            log.append({"step": step + 1, "loss": run_loss / run_n, "elapsed_s": el})
            run_loss, run_n = 0.0, 0
    train_time = time.time() - t_start
    held_loss = evaluate(model, held, pad_id)
    print(f"training time {train_time:.0f}s, held-out loss {held_loss:.4f} (ppl {math.exp(held_loss):.3f})",
          flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    torch.save({"config": json.loads(cfg.to_json()), "model": model.state_dict()}, a.out)
    stats = {
        "params": model.num_params(), "train_dialogues": len(train), "train_tokens": n_tok,
        "heldout_dialogues": len(held), "heldout_tokens": sum(len(s) for s in held),
        "steps": a.steps, "tokens_per_batch": a.tokens_per_batch, "tokens_seen": seen, "epochs": seen / n_tok,
        "train_time_s": round(train_time, 1), "heldout_loss": round(held_loss, 4),
        "heldout_ppl": round(math.exp(held_loss), 4), "seed": a.seed, "threads": a.threads,
        "lr": a.lr, "init_checkpoint": a.init_checkpoint, "config": json.loads(cfg.to_json()), "log": log,
    }
    with open(os.path.splitext(a.out)[0] + ".stats.json", "w") as f:
        json.dump(stats, f, indent=2)


if __name__ == "__main__":
    main()

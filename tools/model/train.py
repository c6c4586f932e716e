"""Train the bundled support model on CPU (fixed seed, 2 threads, fixed step count -> reproducible).

  /usr/bin/python3 -m tools.model.train --corpus build/corpus --tokenizer build/tokenizer \
      --out build/checkpoint.pt --steps 2400
"""
import argparse
import json
import math
import os
import random
import time

import torch
import torch.nn.functional as F

from .bpe_tokenizer import BPETokenizer
from .copy_practice import CopyPractice, RecallPractice
from .llama import LlamaLM, ModelConfig


def model_config(tok, config_json):
    """ModelConfig for this tokenizer (vocabulary, eos, pad) with the --config JSON overrides."""
    return ModelConfig(vocab_size=len(tok.vocab), eos_token_id=tok.token_id("<|im_end|>"),
                       pad_token_id=tok.token_id("<|endoftext|>"), **json.loads(config_json or "{}"))


def load_trained(path, tok, config_json=None):
    """The model of a checkpoint or of a running training's <out>.resume, in eval mode.

    A .resume written before it kept its config has none: then config_json (train.py's --config) rebuilds it."""
    state = torch.load(path, map_location="cpu")
    if "config" in state:
        cfg = ModelConfig.from_dict(state["config"])
    elif config_json is not None:
        cfg = model_config(tok, config_json)
    else:
        raise SystemExit(f"{path} keeps no config: pass the training's --config")
    model = LlamaLM(cfg)
    model.load_state_dict(state["model"])
    return model.eval()


def load_ids(path, tok, max_len):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            ids = tok.encode(json.loads(line)["text"])
            out.append(ids[:max_len])
    return out


def assistant_mask(ids, tok):
    """1 for the tokens of assistant turns (after the `<|im_start|>assistant\\n` header, through `<|im_end|>`):
    the tokens the model must produce. System, user and tool text is context only."""
    start, end = tok.token_id("<|im_start|>"), tok.token_id("<|im_end|>")
    mask, state, header = [0] * len(ids), "out", []
    for i, t in enumerate(ids):
        if t == start:
            state, header = "header", []
        elif state == "header":
            header.append(t)
            role = tok.decode(header)
            if "\n" in role:
                state = "body" if role.strip() == "assistant" else "out"
        elif state == "body":
            mask[i] = 1
            if t == end:
                state = "out"
    return mask


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


def collate(seqs, idx, pad_id, weights=None):
    """ids, attention mask, positions and loss mask (weights[i] per token, or every real token)."""
    L = max(len(seqs[i]) for i in idx)
    ids = torch.full((len(idx), L), pad_id, dtype=torch.long)
    mask = torch.zeros((len(idx), L), dtype=torch.long)
    loss_mask = torch.zeros((len(idx), L), dtype=torch.long)
    for r, i in enumerate(idx):
        s = seqs[i]
        ids[r, :len(s)] = torch.tensor(s)
        mask[r, :len(s)] = 1
        loss_mask[r, :len(s)] = torch.tensor(weights[i]) if weights is not None else 1
    pos = torch.arange(L).unsqueeze(0).expand(len(idx), L)
    return ids, mask, pos, loss_mask


def lm_loss(model, ids, mask, pos, loss_mask):
    logits, _ = model(ids, mask, pos, None)
    tgt = ids[:, 1:].masked_fill(loss_mask[:, 1:] == 0, -100)
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=-100,
                           reduction="sum"), int((tgt != -100).sum())


SYSTEM_END = "<|im_end|>\n"
COPY_WINDOW = 10  # steps over which --copy-first measures the practice accuracy


def load_groups(path, tok, max_len):
    """Dialogues grouped by the corpus's "group" (one shared system turn each): a list of
    (prefix ids, [(continuation ids, loss mask)]). The system turn ends at the first <|im_end|>\\n, a special
    token boundary, so prefix + continuation tokenizes exactly as the whole dialogue."""
    groups, cur_key, cur = [], None, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            cut = d["text"].index(SYSTEM_END) + len(SYSTEM_END)
            prefix, rest = d["text"][:cut], d["text"][cut:]
            key = (d.get("group"), prefix)
            if key != cur_key:
                cur_key, cur = key, (tok.encode(prefix), [])
                groups.append(cur)
            ids = tok.encode(rest)[:max(0, max_len - len(cur[0]))]
            if len(ids) < 2:
                continue  # nothing left after the prompt within max_len
            full_mask = assistant_mask(cur[0] + ids, tok)
            cur[1].append((ids, full_mask[len(cur[0]):]))
    return [g for g in groups if g[1]]


def group_loss(model, prefix, convs, pad_id):
    """Summed assistant-token loss of several dialogues under one system prompt: the prompt is run once and
    its keys/values are shared (as the service's prompt cache shares them) by all continuations."""
    P = len(prefix)
    _, past = model(torch.tensor([prefix]), torch.ones(1, P, dtype=torch.long), torch.arange(P).unsqueeze(0),
                    None, skip_head=True)
    B, S = len(convs), max(len(c) for c, _ in convs)
    past = [(k.expand(B, -1, -1, -1), v.expand(B, -1, -1, -1)) for k, v in past]
    ids = torch.full((B, S), pad_id, dtype=torch.long)
    am = torch.ones((B, P + S), dtype=torch.long)
    lm = torch.zeros((B, S), dtype=torch.bool)
    for r, (c, m) in enumerate(convs):
        ids[r, :len(c)] = torch.tensor(c)
        am[r, P + len(c):] = 0
        lm[r, :len(c)] = torch.tensor(m, dtype=torch.bool)
    pos = (torch.arange(S) + P).unsqueeze(0).expand(B, S)
    h, _ = model(ids, am, pos, past, skip_head=True)
    # position t predicts token t+1 (the first continuation token, <|im_start|>, carries no loss)
    sel = lm[:, 1:]
    logits = model.head(h[:, :-1][sel])
    n = int(sel.sum())
    return F.cross_entropy(logits, ids[:, 1:][sel], reduction="sum"), n, P + B * S


@torch.no_grad()
def evaluate_groups(model, groups, pad_id):
    model.eval()
    tot, n = 0.0, 0
    for prefix, convs in groups:
        l, c, _ = group_loss(model, prefix, convs, pad_id)
        tot += float(l)
        n += c
    model.train()
    return tot / max(n, 1)


@torch.no_grad()
def evaluate(model, seqs, pad_id, weights=None, tokens_per_batch=8192):
    model.eval()
    tot, n = 0.0, 0
    for idx in make_batches(seqs, tokens_per_batch, random.Random(0)):
        l, c = lm_loss(model, *collate(seqs, idx, pad_id, weights))
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
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--max-minutes", type=float, default=None,
                    help="train for this long instead: CPU time over --threads, so a machine shared with other work "
                         "stretches the box in wall time instead of shortening the training (the schedule "
                         "follows it; --steps caps it)")
    ap.add_argument("--group-prompts", action="store_true",
                    help="one step per group of dialogues sharing a system prompt, computed once "
                         "(implies --assistant-only)")
    ap.add_argument("--assistant-only", action="store_true",
                    help="loss on assistant tokens only (the system prompt and user turns are context)")
    ap.add_argument("--checkpoint-every", type=int, default=100,
                    help="save model, optimizer and position to <out>.resume every N steps and at the end; "
                         "a rerun resumes (and, given more minutes or steps, trains on)")
    ap.add_argument("--copy-batch", type=int, default=0,
                    help="copy-practice sequences added to every step (copy_practice.py); 0 = none")
    ap.add_argument("--copy-first", type=float, default=0.0,
                    help=f"copy practice alone (at --copy-first-lr) until its accuracy over the last "
                         f"{COPY_WINDOW} steps reaches this, then the corpus; 0 = from the start mixed")
    ap.add_argument("--copy-first-lr", type=float, default=1e-3)
    ap.add_argument("--copy-text-share", type=float, default=0.0,
                    help="share of copy-practice rows that copy coined text from the said form to the quoted "
                         "one or back (copy_practice.py); 0 = token spans only")
    ap.add_argument("--recall-rows", type=int, default=0,
                    help="recall-practice rows added to every step (copy_practice.RecallPractice: keyed facts, "
                         "then values asked for by key from up to --recall-len tokens back); needs --copy-batch")
    ap.add_argument("--recall-len", type=int, default=2048, help="the longest recall-practice row, tokens")
    ap.add_argument("--init-checkpoint", default=None,
                    help="continue from this checkpoint (its config wins over --config; fresh optimizer)")
    a = ap.parse_args()
    if a.copy_first and not a.copy_batch:
        ap.error("--copy-first needs --copy-batch")
    if a.recall_rows and not a.copy_batch:
        ap.error("--recall-rows needs --copy-batch")

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    tok = BPETokenizer.load(os.path.join(a.tokenizer, "tokenizer.json"))
    init = torch.load(a.init_checkpoint, map_location="cpu") if a.init_checkpoint else None
    if init is not None:
        cfg = ModelConfig.from_dict(init["config"])
    else:
        cfg = model_config(tok, a.config)
    pad_id = cfg.pad_token_id
    t0 = time.time()
    if a.group_prompts:
        a.assistant_only = True
        train = load_groups(os.path.join(a.corpus, "train.jsonl"), tok, a.max_len)
        held_groups = load_groups(os.path.join(a.corpus, "heldout.jsonl"), tok, a.max_len)[:60]
        print(f"tokenized in {time.time() - t0:.1f}s: {len(train)} training groups of "
              f"{sum(len(c) for _, c in train)} dialogues", flush=True)
    else:
        train = load_ids(os.path.join(a.corpus, "train.jsonl"), tok, a.max_len)
        held = load_ids(os.path.join(a.corpus, "heldout.jsonl"), tok, a.max_len)[:100]
    if a.group_prompts:
        n_tok = sum(len(p) + sum(len(c) for c, _ in cs) for p, cs in train)
    else:
        w_train = [assistant_mask(s, tok) for s in train] if a.assistant_only else None
        w_held = [assistant_mask(s, tok) for s in held] if a.assistant_only else None
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
        """Warm-up to the peak, then held while copy practice runs alone (--copy-first), else the cosine."""
        copying_alone = copy_formed_at is None
        peak = a.copy_first_lr if copying_alone else a.lr
        if step < a.warmup:
            return peak * (step + 1) / a.warmup
        if copying_alone:
            return peak
        p = (step - a.warmup) / max(1, a.steps - a.warmup)
        if a.max_minutes:
            p = max(p, min(1.0, elapsed() / (60 * a.max_minutes)))
        return a.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))

    def epoch_batches(epoch):
        if a.group_prompts:
            order = [[i] for i in range(len(train))]
            random.Random(a.seed * 1000 + epoch).shuffle(order)
            return order
        return make_batches(train, a.tokens_per_batch, random.Random(a.seed * 1000 + epoch))

    resume_path = a.out + ".resume"
    start, bi, epoch, seen, log, spent = 0, 0, 0, 0, [], 0.0
    copy_formed_at = None if a.copy_first else 0  # the step the corpus joined
    if os.path.exists(resume_path):
        st = torch.load(resume_path, map_location="cpu")
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        start, bi, epoch, seen, log, spent = st["step"], st["bi"], st["epoch"], st["seen"], st["log"], st["spent"]
        copy_formed_at = st.get("copy_formed_at", 0)
        torch.set_rng_state(st["torch_rng"])
        print(f"resuming at step {start} from {resume_path}", flush=True)
    def save_state(done_steps, spent_s=None):
        torch.save({"config": json.loads(cfg.to_json()), "model": model.state_dict(), "opt": opt.state_dict(),
                    "step": done_steps, "bi": bi,
                    "epoch": epoch, "seen": seen, "log": log, "copy_formed_at": copy_formed_at,
                    "spent": elapsed() if spent_s is None else spent_s,
                    "torch_rng": torch.get_rng_state()}, resume_path + ".tmp")
        os.replace(resume_path + ".tmp", resume_path)

    copier = CopyPractice(tok, a.seed, a.copy_batch, text_share=a.copy_text_share) if a.copy_batch else None
    recaller = RecallPractice(copier, a.seed, a.recall_rows, max_len=a.recall_len) if a.recall_rows else None
    copy_counts = [0, 0, 0, 0]  # correct, total, digits correct, digits total since the last log line
    recall_counts = [0, 0]  # values right, values asked since the last log line
    recent_copy = []  # (correct, total) of the last COPY_WINDOW steps, while copy practice runs alone
    batches = epoch_batches(epoch)
    model.train()
    cpu_start = time.process_time()

    def elapsed():
        """Training time spent, resumed runs included: this process's CPU seconds per thread, not wall time."""
        return spent + (time.process_time() - cpu_start) / a.threads
    run_loss, run_n = 0.0, 0
    for step in range(start, a.steps):
        if a.max_minutes and elapsed() >= 60 * a.max_minutes:
            a.steps = step  # the time is up: this is the last step
            break
        if bi >= len(batches):
            epoch, bi = epoch + 1, 0
            batches = epoch_batches(epoch)
        copying_alone = copy_formed_at is None
        for gp in opt.param_groups:
            gp["lr"] = lr_at(step)
        if copying_alone:
            loss_sum, n, n_in = torch.zeros(()), 0, 0
        elif a.group_prompts:
            prefix, convs = train[batches[bi][0]]
            loss_sum, n, n_in = group_loss(model, prefix, convs, pad_id)
        else:
            ids, mask, pos, loss_mask = collate(train, batches[bi], pad_id, w_train)
            loss_sum, n = lm_loss(model, ids, mask, pos, loss_mask)
            n_in = int(mask.sum())
        if not copying_alone:
            bi += 1
        loss = loss_sum / max(1, n)
        if copier is not None:
            copy_loss, counts = copier.loss(model, step)
            loss = loss + copy_loss
            copy_counts = [c + d for c, d in zip(copy_counts, counts)]
            if copying_alone:
                recent_copy = (recent_copy + [counts[:2]])[-COPY_WINDOW:]
                right, total = (sum(col) for col in zip(*recent_copy))
                if len(recent_copy) == COPY_WINDOW and right >= a.copy_first * total:
                    copy_formed_at = step + 1
                    print(f"copy practice at {a.copy_first:.0%} after {step + 1} steps: the corpus joins",
                          flush=True)
        if recaller is not None:
            recall_loss, counts = recaller.loss(model, step)
            loss = loss + recall_loss
            recall_counts = [c + d for c, d in zip(recall_counts, counts[:2])]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        seen += n_in
        run_loss += float(loss_sum)
        run_n += n
        if (step + 1) % a.log_every == 0 or step == 0:
            el = elapsed()
            entry = {"step": step + 1, "loss": run_loss / max(1, run_n), "elapsed_s": el}
            copied = ""
            if copier is not None:
                entry["copy_acc"] = copy_counts[0] / copy_counts[1]
                entry["copy_digit_acc"] = copy_counts[2] / max(1, copy_counts[3])
                copied = f" copy {entry['copy_acc']:.3f} digits {entry['copy_digit_acc']:.3f}"
            if recaller is not None:
                entry["recall_acc"] = recall_counts[0] / max(1, recall_counts[1])
                copied += f" recall {entry['recall_acc']:.3f}"
            print(f"step {step + 1}/{a.steps} epoch {epoch} loss {entry['loss']:.4f}{copied} "
                  f"lr {opt.param_groups[0]['lr']:.2e} tokens {seen} elapsed {el:.0f}s ({seen / el:.0f} tok/s)",
                  flush=True)
            log.append(entry)
            run_loss, run_n, copy_counts, recall_counts = 0.0, 0, [0, 0, 0, 0], [0, 0]
        if (step + 1) % a.checkpoint_every == 0:
            save_state(step + 1)
    train_time = elapsed()
    held_loss = (evaluate_groups(model, held_groups, pad_id) if a.group_prompts
                 else evaluate(model, held, pad_id, w_held))
    print(f"training time {train_time:.0f}s, held-out loss {held_loss:.4f} (ppl {math.exp(held_loss):.3f})",
          flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    torch.save({"config": json.loads(cfg.to_json()), "model": model.state_dict()}, a.out)
    stats = {
        "params": model.num_params(), "train_dialogues": len(train), "train_tokens": n_tok,
        "steps": a.steps, "tokens_per_batch": a.tokens_per_batch, "tokens_seen": seen, "epochs": seen / n_tok,
        "train_time_s": round(train_time, 1), "heldout_loss": round(held_loss, 4),
        "heldout_ppl": round(math.exp(held_loss), 4), "seed": a.seed, "threads": a.threads,
        "lr": a.lr, "copy_batch": a.copy_batch, "copy_text_share": a.copy_text_share, "recall_rows": a.recall_rows, "recall_len": a.recall_len, "copy_formed_at": copy_formed_at, "assistant_only": a.assistant_only, "max_len": a.max_len, "init_checkpoint": a.init_checkpoint, "config": json.loads(cfg.to_json()), "log": log,
    }
    with open(os.path.splitext(a.out)[0] + ".stats.json", "w") as f:
        json.dump(stats, f, indent=2)
    # kept: a rerun with a larger --max-minutes (or --steps) continues this run
    save_state(a.steps, train_time)


if __name__ == "__main__":
    main()

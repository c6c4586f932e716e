"""Copy practice: synthetic "span, newline, same span again" sequences trained alongside the corpus.

A support reply has to repeat order numbers, e-mail addresses and coined product names exactly, which takes
an induction circuit (find where the current text occurred before, emit what followed it). Trained on the
corpus alone, a 4-layer model never formed one in 2,600 steps: templates lower the loss sooner, and copied
digits are a sliver of it. Bare copying from random initialisation does form it (docs/models.md), so every
training step also takes a batch of these, with the loss on the repeat only.
"""
import random

import torch

from bpe_tokenizer import SPECIAL_TOKENS

NUMBER_DIGITS = (5, 10)  # order, return and ticket numbers: the specifics replies most often repeat


def number_ids(tok):
    """Ids of the tokens that are all digits (single digits, and two-digit ones under --digit-merges pairs)."""
    return [i for t, i in tok.vocab.items() if t.isdigit()]


def ordinary_ids(tok, sep):
    """Ids a span is drawn from: every token but the special ones and the separator."""
    excluded = {tok.token_id(t) for t in SPECIAL_TOKENS} | {sep}
    return [i for i in range(len(tok.vocab)) if i not in excluded]


class CopyPractice:
    """Batches of copy sequences, a pure function of (seed, step) so a resumed run draws the same ones."""

    def __init__(self, tok, seed, batch, min_len=8, max_len=48, digit_share=0.3):
        self.sep = tok.encode("\n")[0]
        self.pool = ordinary_ids(tok, self.sep)
        self.digits = number_ids(tok)
        self.tok = tok
        self.seed, self.batch, self.min_len, self.max_len, self.digit_share = seed, batch, min_len, max_len, digit_share

    def span(self, r, n):
        out = []
        while len(out) < n:
            if r.random() < self.digit_share:
                out.extend(self.tok.encode("".join(r.choice("0123456789") for _ in range(r.randint(*NUMBER_DIGITS)))))
            else:
                out.append(r.choice(self.pool))
        return out[:n]

    def batch_at(self, step):
        """ids [batch, 2L+1] and the length L of the span (targets are ids[:, L+1:])."""
        r = random.Random(self.seed * 1_000_003 + step)
        n = r.randint(self.min_len, self.max_len)
        rows = []
        for _ in range(self.batch):
            s = self.span(r, n)
            rows.append(s + [self.sep] + s)
        return torch.tensor(rows), n

    def loss(self, model, step):
        """Mean cross-entropy on the repeated span, and (correct, total, digits correct, digits total)."""
        ids, n = self.batch_at(step)
        b, s = ids.shape
        logits, _ = model(ids, torch.ones(b, s, dtype=torch.long), torch.arange(s).unsqueeze(0).expand(b, s), None)
        pred, tgt = logits[:, n:-1], ids[:, n + 1:]
        loss = torch.nn.functional.cross_entropy(pred.reshape(-1, pred.shape[-1]), tgt.reshape(-1))
        with torch.no_grad():
            ok = pred.argmax(-1) == tgt
            is_digit = torch.isin(tgt, torch.tensor(self.digits))
            counts = (int(ok.sum()), ok.numel(), int(ok[is_digit].sum()), int(is_digit.sum()))
        return loss, counts

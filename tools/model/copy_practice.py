"""Copy practice: synthetic "span, newline, same span again" sequences trained alongside the corpus.

A support reply has to repeat order numbers, e-mail addresses and coined product names exactly, which takes
an induction circuit (find where the current text occurred before, emit what followed it). Trained on the
corpus alone, a 4-layer model never formed one in 2,600 steps: templates lower the loss sooner, and copied
digits are a sliver of it. Bare copying from random initialisation does form it (docs/model-history.md), so every
training step also takes a batch of these, with the loss on the repeat only.
"""
import random

import torch

from .bpe_tokenizer import SPECIAL_TOKENS

NUMBER_DIGITS = (5, 10)  # order, return and ticket numbers: the specifics replies most often repeat
IGNORED = -100  # label of a position whose prediction is not scored
TOP_LEVEL_DOMAINS = ("com", "net", "io", "org", "co")


def digits(r):
    return "".join(r.choice("0123456789") for _ in range(r.randint(*NUMBER_DIGITS)))


def coined_word(r):
    """Random letters, not a word the corpus knows: every letter must be copied, none recalled."""
    word = "".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(r.randint(2, 9)))
    return word.capitalize() if r.random() < 0.25 else word


def email(r):
    local = coined_word(r).lower() + r.choice(("", ".", "_")) + r.choice((coined_word(r).lower(), str(r.randint(1, 99))))
    return f"{local}@{coined_word(r).lower()}.{r.choice(TOP_LEVEL_DOMAINS)}"


def number_ids(tok):
    """Ids of the tokens that are all digits (single digits, and two-digit ones under --digit-merges pairs)."""
    return [i for t, i in tok.vocab.items() if t.isdigit()]


def ordinary_ids(tok, sep):
    """Ids a span is drawn from: every token but the special ones and the separator."""
    excluded = {tok.token_id(t) for t in SPECIAL_TOKENS} | {sep}
    return [i for i in range(len(tok.vocab)) if i not in excluded]


class CopyPractice:
    """Batches of copy sequences, a pure function of (seed, step) so a resumed run draws the same ones.

    A token row repeats a span of random tokens. A text row (a share `text_share` of them) repeats coined
    words, numbers and e-mail addresses as a reply or a tool call does: said in a message they follow a
    space (" kofi_@gmx.net" starts with the token " k"), in a JSON string they follow a quote (the token
    "k"), so the copy's first token is another token than the one it copies. The bundled model got exactly
    that token wrong ("pofi_@gmx.net"): the corpus shows the pairing only for the letters its names use.
    """

    def __init__(self, tok, seed, batch, min_len=8, max_len=48, digit_share=0.3, text_share=0.0):
        self.sep = tok.encode("\n")[0]
        self.pool = ordinary_ids(tok, self.sep)
        self.digits = number_ids(tok)
        self.tok = tok
        self.seed, self.batch, self.min_len, self.max_len, self.digit_share = seed, batch, min_len, max_len, digit_share
        self.text_share = text_share

    def span(self, r, n):
        out = []
        while len(out) < n:
            if r.random() < self.digit_share:
                out.extend(self.tok.encode(digits(r)))
            else:
                out.append(r.choice(self.pool))
        return out[:n]

    def text_row(self, r, n):
        """A said text of at least n tokens and its copy as the other form: quoted if said after a space."""
        words = []
        while len(self.tok.encode(" " + " ".join(words))) < n:
            words.append(r.choice((coined_word, coined_word, digits, email))(r))
        text = " ".join(words)
        said, copied = " " + text, '"' + text + '"'
        if r.random() < 0.5:
            said, copied = copied, said
        return self.tok.encode(said), self.tok.encode(copied)

    def batch_at(self, step):
        """ids [batch, S] and labels [batch, S]: the token each position should predict, IGNORED off the copy."""
        r = random.Random(self.seed * 1_000_003 + step)
        n = r.randint(self.min_len, self.max_len)
        rows = []
        for _ in range(self.batch):
            if self.text_share and r.random() < self.text_share:
                rows.append(self.text_row(r, n))
            else:
                s = self.span(r, n)
                rows.append((s, s))
        width = max(len(said) + 1 + len(copy) for said, copy in rows)
        ids = torch.full((self.batch, width), self.sep)
        labels = torch.full((self.batch, width), IGNORED)
        for i, (said, copy) in enumerate(rows):
            row = said + [self.sep] + copy
            ids[i, :len(row)] = torch.tensor(row)
            labels[i, len(said):len(row) - 1] = torch.tensor(copy)
        return ids, labels

    def loss(self, model, step):
        """Mean cross-entropy on the copies, and (correct, total, digits correct, digits total)."""
        return scored_loss(model, *self.batch_at(step), self.digits)


class RecallPractice:
    """Rows of keyed facts, then some of the keys again, each to be answered with its fact's value.

    Copy practice repeats a span right after itself, so the circuit it forms copies across tens of tokens only:
    the v3 run's model copied 99 % of such spans at no distance, 47 % across 100 tokens and 1 % across 400
    (docs/models.md, "Copying across a prompt"), while an operator prompt's fact stands hundreds to thousands of
    tokens before the reply that needs it. Here a fact is a line `key: value` (a coined key, the value a span as
    copy practice draws them), the row runs to a random length up to `max_len`, and the loss is on the values
    asked for at its end: each must be found by its key wherever it stands. A pure function of (seed, step).
    """

    def __init__(self, copier, seed, rows, max_len=2048, min_len=128, queries=8):
        self.copier, self.seed, self.rows = copier, seed, rows
        self.max_len, self.min_len, self.queries = max_len, min_len, queries
        self.colon = copier.tok.encode(":")

    def fact(self, r, keys):
        key = coined_word(r)
        while key in keys:
            key = coined_word(r)
        keys.add(key)
        return self.copier.tok.encode(" " + key) + self.colon, self.copier.span(r, r.randint(2, 10))

    def row(self, r):
        """(ids, labels) of one row: facts up to its length, then `queries` of them asked again."""
        length, keys, facts, used = r.randint(self.min_len, self.max_len), set(), [], 0
        while used < length or len(facts) < self.queries:
            key, value = self.fact(r, keys)
            facts.append((key, value))
            used += 1 + len(key) + len(value)
        ids, labels = [], []
        for key, value in facts:
            ids += [self.copier.sep] + key + value
        labels = [IGNORED] * len(ids)
        for key, value in r.sample(facts, self.queries):
            asked = [self.copier.sep] + key
            ids += asked + value
            labels += [IGNORED] * len(asked) + value
        return ids, labels[1:] + [IGNORED]

    def batch_at(self, step):
        r = random.Random(self.seed * 1_000_033 + step)
        rows = [self.row(r) for _ in range(self.rows)]
        width = max(len(ids) for ids, _ in rows)
        ids = torch.full((self.rows, width), self.copier.sep)
        labels = torch.full((self.rows, width), IGNORED)
        for i, (row_ids, row_labels) in enumerate(rows):
            ids[i, :len(row_ids)] = torch.tensor(row_ids)
            labels[i, :len(row_labels)] = torch.tensor(row_labels)
        return ids, labels

    def loss(self, model, step):
        """Mean cross-entropy on the values asked for, and (correct, total, digits correct, digits total)."""
        return scored_loss(model, *self.batch_at(step), self.copier.digits)


def scored_loss(model, ids, labels, digit_ids):
    """Mean cross-entropy where labels are not IGNORED, and (correct, total, digits correct, digits total)."""
    b, s = ids.shape
    logits, _ = model(ids, torch.ones(b, s, dtype=torch.long), torch.arange(s).unsqueeze(0).expand(b, s), None)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                                             ignore_index=IGNORED)
    with torch.no_grad():
        scored = labels != IGNORED
        ok = (logits.argmax(-1) == labels) & scored
        is_digit = torch.isin(labels, torch.tensor(digit_ids))
        counts = (int(ok.sum()), int(scored.sum()), int(ok[is_digit].sum()), int(is_digit.sum()))
    return loss, counts

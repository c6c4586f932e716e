"""Byte-level BPE tokenizer trainer and encoder that writes a Hugging Face tokenizer.json.

The pre-tokenizer is the GPT-2 / HF ByteLevel regex (add_prefix_space=false, use_regex=true),
special tokens are HF added tokens ("special": true) that are split out before pre-tokenization,
so encode() here produces exactly the ids the Rust `tokenizers` library produces for the same file.
Requires the `regex` module (Debian: python3-regex) for \\p{L} / \\p{N}.
"""
import json
import os
from collections import Counter, defaultdict
from typing import Dict, List, Tuple

import regex

# the exact pattern of tokenizers' ByteLevel pre-tokenizer
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
PAT = regex.compile(GPT2_PATTERN)

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
DEFAULT_SYSTEM = "You are a helpful customer support assistant."

# Qwen 2.5-Instruct's ChatML template (tools in the system turn, Hermes <tool_call> blocks, tool results as
# <tool_response> in a user turn) with a support-assistant default system prompt.
TOOLS_HEADER = ("\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
                "You are provided with function signatures within <tools></tools> XML tags:\n<tools>")
TOOLS_FOOTER = ("\n</tools>\n\nFor each function call, return a json object with function name and arguments "
                "within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, "
                "\"arguments\": <args-json-object>}\n</tool_call>")


def _jinja_str(s: str) -> str:
    return json.dumps(s)  # a double-quoted literal Jinja reads back as the same string


CHAT_TEMPLATE = (
    "{%- if tools %}\n"
    "    {{- '<|im_start|>system\\n' }}\n"
    "    {%- if messages[0]['role'] == 'system' %}\n"
    "        {{- messages[0]['content'] }}\n"
    "    {%- else %}\n"
    "        {{- '" + DEFAULT_SYSTEM + "' }}\n"
    "    {%- endif %}\n"
    "    {{- " + _jinja_str(TOOLS_HEADER) + " }}\n"
    "    {%- for tool in tools %}\n"
    "        {{- \"\\n\" }}\n"
    "        {{- tool | tojson }}\n"
    "    {%- endfor %}\n"
    "    {{- " + _jinja_str(TOOLS_FOOTER + "<|im_end|>\n") + " }}\n"
    "{%- else %}\n"
    "    {%- if messages[0]['role'] == 'system' %}\n"
    "        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n"
    "    {%- else %}\n"
    "        {{- '<|im_start|>system\\n" + DEFAULT_SYSTEM + "<|im_end|>\\n' }}\n"
    "    {%- endif %}\n"
    "{%- endif %}\n"
    "{%- for message in messages %}\n"
    "    {%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first) or "
    "(message.role == \"assistant\" and not message.tool_calls) %}\n"
    "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n"
    "    {%- elif message.role == \"assistant\" %}\n"
    "        {{- '<|im_start|>' + message.role }}\n"
    "        {%- if message.content %}\n"
    "            {{- '\\n' + message.content }}\n"
    "        {%- endif %}\n"
    "        {%- for tool_call in message.tool_calls %}\n"
    "            {%- if tool_call.function is defined %}\n"
    "                {%- set tool_call = tool_call.function %}\n"
    "            {%- endif %}\n"
    "            {{- '\\n<tool_call>\\n{\"name\": \"' }}\n"
    "            {{- tool_call.name }}\n"
    "            {{- '\", \"arguments\": ' }}\n"
    "            {{- tool_call.arguments | tojson }}\n"
    "            {{- '}\\n</tool_call>' }}\n"
    "        {%- endfor %}\n"
    "        {{- '<|im_end|>\\n' }}\n"
    "    {%- elif message.role == \"tool\" %}\n"
    "        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != \"tool\") %}\n"
    "            {{- '<|im_start|>user' }}\n"
    "        {%- endif %}\n"
    "        {{- '\\n<tool_response>\\n' }}\n"
    "        {{- message.content }}\n"
    "        {{- '\\n</tool_response>' }}\n"
    "        {%- if loop.last or (messages[loop.index0 + 1].role != \"tool\") %}\n"
    "            {{- '<|im_end|>\\n' }}\n"
    "        {%- endif %}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}\n"
    "    {{- '<|im_start|>assistant\\n' }}\n"
    "{%- endif %}\n"
)


def tojson(x, compact: bool = False) -> str:
    """Jinja's tojson as Hugging Face defines it (json.dumps, spaced); compact as Jackson writes it."""
    return json.dumps(x, ensure_ascii=False, separators=(",", ":") if compact else None)


def render_chat(messages: List[dict], add_generation_prompt: bool = False, tools=None,
                compact_tools: bool = False, compact_arguments: bool = False) -> str:
    """Python rendering of CHAT_TEMPLATE. With the defaults it is what Hugging Face's apply_chat_template renders
    (tojson spaced); with compact_tools and compact_arguments what the service renders (its Jinja's tojson is
    Jackson's, unspaced). tools/model/tests/test_chat_template.py holds it to jinja2 and to the service's
    renderings in src/test/resources/chat-template/cases.json."""
    out = []
    first_system = bool(messages) and messages[0]["role"] == "system"
    if tools:
        out.append("<|im_start|>system\n" + (messages[0]["content"] if first_system else DEFAULT_SYSTEM))
        out.append(TOOLS_HEADER)
        for t in tools:
            out.append("\n" + tojson(t, compact_tools))
        out.append(TOOLS_FOOTER + "<|im_end|>\n")
    else:
        out.append("<|im_start|>system\n" + (messages[0]["content"] if first_system else DEFAULT_SYSTEM)
                   + "<|im_end|>\n")
    for i, m in enumerate(messages):
        role = m["role"]
        if role == "user" or (role == "system" and i > 0) or (role == "assistant" and not m.get("tool_calls")):
            out.append("<|im_start|>" + role + "\n" + m["content"] + "<|im_end|>\n")
        elif role == "assistant":
            out.append("<|im_start|>assistant" + ("\n" + m["content"] if m.get("content") else ""))
            for c in m["tool_calls"]:
                c = c.get("function", c)
                out.append('\n<tool_call>\n{"name": "' + c["name"] + '", "arguments": '
                           + tojson(c["arguments"], compact_arguments) + "}\n</tool_call>")
            out.append("<|im_end|>\n")
        elif role == "tool":
            if i == 0 or messages[i - 1]["role"] != "tool":
                out.append("<|im_start|>user")
            out.append("\n<tool_response>\n" + m["content"] + "\n</tool_response>")
            if i == len(messages) - 1 or messages[i + 1]["role"] != "tool":
                out.append("<|im_end|>\n")
    if add_generation_prompt:
        out.append("<|im_start|>assistant\n")
    return "".join(out)


def apply_chat_template(messages: List[dict], add_generation_prompt: bool = False) -> str:
    return render_chat(messages, add_generation_prompt)


def bytes_to_unicode() -> Dict[int, str]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_ENC = bytes_to_unicode()
BYTE_DEC = {v: k for k, v in BYTE_ENC.items()}
SPECIAL_SPLIT = regex.compile("(" + "|".join(regex.escape(t) for t in SPECIAL_TOKENS) + ")")


def pretokenize(text: str) -> List[str]:
    return ["".join(BYTE_ENC[b] for b in w.encode("utf-8")) for w in PAT.findall(text)]


def split_special(text: str) -> List[str]:
    return [p for p in SPECIAL_SPLIT.split(text) if p]


DIGIT_MERGES = ("all", "pairs", "none")


SPACE = BYTE_ENC[ord(" ")]


def train_bpe(texts, vocab_size: int, digit_merges: str = "all",
              space_apart: bool = False) -> Tuple[Dict[str, int], List[Tuple[str, str]]]:
    """Train merges until len(vocab) == vocab_size (specials + 256 bytes + merges). digit_merges "none" keeps
    digits single tokens; "pairs" allows only two-digit tokens, so a 7-digit order number is 4 tokens of a
    110-token alphabet instead of 7 of 10: a model copying it token by token, by matching the token it just
    wrote, is rarely misled by a repeated digit. Either way a number is its own pre-token, so it is the same
    tokens wherever it stands. space_apart keeps the space before a word a token of its own (" kofi" is
    ` ` `kofi`, never ` k` `ofi`), so that a word said in a sentence and the same word quoted as a JSON value
    are the same tokens, as numbers already are."""

    def allowed(pair):
        if space_apart and pair[0] == SPACE and pair[1][0].isalpha():
            return False
        if digit_merges == "all" or not any(ch.isdigit() for ch in pair[0] + pair[1]):
            return True
        return digit_merges == "pairs" and all(len(part) == 1 and part.isdigit() for part in pair)

    words = Counter()
    for t in texts:
        for part in split_special(t):
            if part in SPECIAL_TOKENS:
                continue
            words.update(pretokenize(part))
    vocab: Dict[str, int] = {}
    for t in SPECIAL_TOKENS:
        vocab[t] = len(vocab)
    for b in range(256):
        vocab[BYTE_ENC[b]] = len(vocab)
    wl = list(words.items())
    syms = [list(w) for w, _ in wl]
    freq = [c for _, c in wl]
    pairs = Counter()
    where = defaultdict(set)
    for i, s in enumerate(syms):
        for a, b in zip(s, s[1:]):
            pairs[(a, b)] += freq[i]
            where[(a, b)].add(i)
    merges: List[Tuple[str, str]] = []
    for p in [p for p in pairs if not allowed(p)]:
        del pairs[p]
    while len(vocab) < vocab_size and pairs:
        # deterministic: highest count, ties broken by the pair itself
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
        if pairs[best] <= 0:
            break
        a, b = best
        new = a + b
        merges.append(best)
        vocab[new] = len(vocab)
        for i in sorted(where.pop(best, ())):
            s = syms[i]
            f = freq[i]
            # remove old pair counts of this word
            for p in zip(s, s[1:]):
                pairs[p] -= f
                if pairs[p] <= 0:
                    del pairs[p]
            j, ns = 0, []
            while j < len(s):
                if j < len(s) - 1 and s[j] == a and s[j + 1] == b:
                    ns.append(new)
                    j += 2
                else:
                    ns.append(s[j])
                    j += 1
            syms[i] = ns
            for p in zip(ns, ns[1:]):
                if not allowed(p):
                    continue
                pairs[p] += f
                where[p].add(i)
        pairs.pop(best, None)
    return vocab, merges


class BPETokenizer:
    def __init__(self, vocab: Dict[str, int], merges: List[Tuple[str, str]]):
        self.vocab = vocab
        self.inv = {v: k for k, v in vocab.items()}
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.merges = merges
        self.cache: Dict[str, List[int]] = {}

    @staticmethod
    def load(path: str) -> "BPETokenizer":
        with open(path, encoding="utf-8") as f:
            tj = json.load(f)
        vocab = tj["model"]["vocab"]
        merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in tj["model"]["merges"]]
        return BPETokenizer(vocab, merges)

    def _bpe(self, word: str) -> List[int]:
        if word in self.cache:
            return self.cache[word]
        s = list(word)
        while len(s) > 1:
            best, rank = None, None
            for p in zip(s, s[1:]):
                r = self.ranks.get(p)
                if r is not None and (rank is None or r < rank):
                    best, rank = p, r
            if best is None:
                break
            j, ns = 0, []
            while j < len(s):
                if j < len(s) - 1 and s[j] == best[0] and s[j + 1] == best[1]:
                    ns.append(best[0] + best[1])
                    j += 2
                else:
                    ns.append(s[j])
                    j += 1
            s = ns
        ids = [self.vocab[t] for t in s]
        self.cache[word] = ids
        return ids

    def encode(self, text: str) -> List[int]:
        ids: List[int] = []
        for part in split_special(text):
            if part in SPECIAL_TOKENS:
                ids.append(self.vocab[part])
                continue
            for w in pretokenize(part):
                ids.extend(self._bpe(w))
        return ids

    def decode(self, ids: List[int], skip_special: bool = True) -> str:
        out, buf = [], []
        for i in ids:
            t = self.inv[i]
            if t in SPECIAL_TOKENS:
                if buf:
                    out.append(bytes(buf).decode("utf-8", errors="replace"))
                    buf = []
                if not skip_special:
                    out.append(t)
                continue
            buf.extend(BYTE_DEC[c] for c in t)
        if buf:
            out.append(bytes(buf).decode("utf-8", errors="replace"))
        return "".join(out)

    def token_id(self, tok: str) -> int:
        return self.vocab[tok]

    def save(self, out_dir: str, model_max_length: int = 1024):
        os.makedirs(out_dir, exist_ok=True)
        added = [{"id": self.vocab[t], "content": t, "single_word": False, "lstrip": False,
                  "rstrip": False, "normalized": False, "special": True} for t in SPECIAL_TOKENS]
        tj = {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": added,
            "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                              "use_regex": True},
            "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                               "use_regex": False},
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                        "use_regex": True},
            "model": {
                "type": "BPE",
                "dropout": None,
                "unk_token": None,
                "continuing_subword_prefix": None,
                "end_of_word_suffix": None,
                "fuse_unk": False,
                "byte_fallback": False,
                "vocab": self.vocab,
                "merges": [a + " " + b for a, b in self.merges],
            },
        }
        with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(tj, f, ensure_ascii=False, indent=None)
        tc = {
            "add_bos_token": False,
            "add_prefix_space": False,
            "added_tokens_decoder": {
                str(self.vocab[t]): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                                     "single_word": False, "special": True} for t in SPECIAL_TOKENS},
            "additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
            "bos_token": None,
            "chat_template": CHAT_TEMPLATE,
            "clean_up_tokenization_spaces": False,
            "eos_token": "<|im_end|>",
            "errors": "replace",
            "model_max_length": model_max_length,
            "pad_token": "<|endoftext|>",
            "split_special_tokens": False,
            "tokenizer_class": "PreTrainedTokenizerFast",
            "unk_token": None,
        }
        with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(tc, f, ensure_ascii=False, indent=2)


def main():
    import argparse
    ap = argparse.ArgumentParser(description="train a byte-level BPE tokenizer (HF tokenizer.json)")
    ap.add_argument("--corpus", required=True, help="JSONL with a 'text' field per line")
    ap.add_argument("--vocab-size", type=int, default=3072)
    ap.add_argument("--out", required=True)
    ap.add_argument("--model-max-length", type=int, default=1024)
    ap.add_argument("--digit-merges", choices=DIGIT_MERGES, default="all",
                    help="merges with digits: any, only two-digit tokens, or none (digits stay single tokens)")
    ap.add_argument("--space-apart", action="store_true",
                    help="never merge the space before a word into the word's first letters")
    a = ap.parse_args()
    texts = []
    with open(a.corpus, encoding="utf-8") as f:
        for line in f:
            texts.append(json.loads(line)["text"])
    vocab, merges = train_bpe(texts, a.vocab_size, digit_merges=a.digit_merges, space_apart=a.space_apart)
    tok = BPETokenizer(vocab, merges)
    tok.save(a.out, a.model_max_length)
    # self-check: round trip
    for t in texts[:200]:
        assert tok.decode(tok.encode(t), skip_special=False) == t
    print(f"vocab {len(vocab)} merges {len(merges)} -> {a.out}/tokenizer.json")


if __name__ == "__main__":
    main()

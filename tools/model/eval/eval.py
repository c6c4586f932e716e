"""Held-out evaluation of a chat model served by kvshare, through its OpenAI-compatible HTTP API.

  /usr/bin/python3 -m tools.model.eval.eval --url http://localhost:8080 \
      --heldout tools/model/work/corpus/heldout.jsonl --vocab-from tools/model/work/corpus/train.jsonl \
      --tokenizer src/main/resources/kvshare/bundled-model/tokenizer.json [--limit 60] [--tools-api]

The held-out dialogues (traffic_corpus.py --split held-out pools: companies, products, names, e-mail domains,
tool descriptions and system prompts never seen in training) carry one check per assistant turn. Each dialogue
is asked at its tool call (if it has one) and at its last assistant turn, with the gold conversation before it,
once greedy (temperature 0) and once with the service's default sampling (no temperature/top_p sent).

Tools: by default they are written into the system message and the conversation exactly as the chat template
renders them (Qwen 2.5 / Hermes format), so the evaluation runs against a server without the OpenAI `tools`
parameter too; `--tools-api` sends `tools`, `tool_calls` and `tool` messages instead and reads `tool_calls`.

Per reply: on-intent (the intent's key phrase, no tool call where none is due; for a due call, the right tool),
readable (no garbage word: a word that is neither common in the training corpus nor in the conversation), stopped
(finish_reason "stop"), copy (every specific the reply needs, of those the conversation holds, appears exactly),
tool name / exact arguments. On corpus v3's held-out set (support_corpus.py) also issue 35's metrics per ask
(eval/generality.py: specific copied, reference repeated, turn-1 recall, right tool and arguments, no tool when none
applies, don't-know with the contact, refusal, loops), over all of it, issue 35's four outside businesses and the
styles training never saw; v3 dialogues are asked at every scored turn.
"""
import argparse
import collections
import json
import re
import sys
import urllib.error
import urllib.request

from ..bpe_tokenizer import TOOLS_FOOTER, TOOLS_HEADER, BPETokenizer, tojson
from ..support_corpus import HELDOUT_STYLES, STRANGER_STYLES
from .generality import metric_scores, metric_table

# intent -> alternatives; a reply is on-intent when it contains one alternative (case-insensitive)
INTENT_KEYS = {
    "ask_order": ["order number"],
    "ask_email": ["e-mail address", "email address"],
    "order_status": ["shipped", "on its way", "delivered", "delayed", "being prepared", "track"],
    "return": ["return"],
    "refund": ["refund"],
    "damaged": ["replacement", "refund", "new "],
    "password": ["reset link"],
    "plan": ["plan"],
    "human": ["colleague", "team"],
    "redirect": ["only help", "can't help"],
    "redirect_language": ["english"],
    "thanks": ["welcome", "happy to help"],
    "recall": [],  # on-intent = the recalled specifics are there
    "confirm": ["confirmation"],
    # corpus v3: a fact's answer and a tool's result are on-intent when they copy what they must
    "fact": [],
    "tool_result": [],
    "dont_know": ["don't know", "don't have"],
}
WORD = re.compile(r"[A-Za-z]+")
TOOL_CALL = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.S)


def words(text):
    return [w.lower() for w in WORD.findall(text)]


def inline_messages(messages, tools):
    """The conversation as plain messages that the template renders exactly as it renders tools and tool turns."""
    out = []
    for i, m in enumerate(messages):
        if m["role"] == "system" and i == 0 and tools:
            text = m["content"] + TOOLS_HEADER + "".join("\n" + tojson(t, compact=True) for t in tools) + TOOLS_FOOTER
            out.append({"role": "system", "content": text})
        elif m["role"] == "assistant" and m.get("tool_calls"):
            calls = ["<tool_call>\n" + json.dumps({"name": c["function"]["name"],
                                                   "arguments": c["function"]["arguments"]}) + "\n</tool_call>"
                     for c in m["tool_calls"]]
            out.append({"role": "assistant", "content": ((m["content"] + "\n") if m["content"] else "")
                        + "\n".join(calls)})
        elif m["role"] == "tool":
            block = "<tool_response>\n" + m["content"] + "\n</tool_response>"
            if out and out[-1]["role"] == "user" and out[-1]["content"].startswith("<tool_response>"):
                out[-1]["content"] += "\n" + block
            else:
                out.append({"role": "user", "content": block})
        else:
            out.append({"role": m["role"], "content": m["content"]})
    return out


def api_messages(messages):
    """The conversation in OpenAI's shape (tool_calls with JSON-string arguments, tool messages with ids)."""
    out, n = [], 0
    for m in messages:
        if m["role"] == "assistant" and m.get("tool_calls"):
            calls = []
            for c in m["tool_calls"]:
                n += 1
                calls.append({"id": f"call_{n}", "type": "function", "function": {
                    "name": c["function"]["name"], "arguments": json.dumps(c["function"]["arguments"])}})
            out.append({"role": "assistant", "content": m["content"] or None, "tool_calls": calls})
        elif m["role"] == "tool":
            out.append({"role": "tool", "tool_call_id": f"call_{n}", "content": m["content"]})
        else:
            out.append({"role": m["role"], "content": m["content"]})
    return out


def post(url, body, timeout):
    req = urllib.request.Request(url + "/v1/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def parse_calls(choice):
    """Tool calls of a reply: the API's tool_calls, else <tool_call> blocks in the text (None if unparsable)."""
    msg = choice["message"]
    if msg.get("tool_calls"):
        calls = []
        for c in msg["tool_calls"]:
            try:
                calls.append({"name": c["function"]["name"], "arguments": json.loads(c["function"]["arguments"])})
            except ValueError:
                calls.append(None)
        return calls
    calls = []
    for block in TOOL_CALL.findall(msg.get("content") or ""):
        try:
            d = json.loads(block)
            calls.append({"name": d.get("name"), "arguments": d.get("arguments")})
        except ValueError:
            calls.append(None)
    if not calls and "<tool_call>" in (msg.get("content") or ""):
        calls.append(None)  # an opened but unfinished call
    return calls


def score(check, choice, known_words):
    text = choice["message"].get("content") or ""
    calls = parse_calls(choice)
    prose = TOOL_CALL.sub(" ", text)
    ws = words(prose)
    garbage = [w for w in ws if w not in known_words]
    stopped = choice.get("finish_reason") in ("stop", "tool_calls")
    r = {"stopped": stopped, "words": len(ws), "garbage": len(garbage), "text": text,
         "finish": choice.get("finish_reason") or ""}
    if check["kind"] == "tool":
        want = check["tool"]
        call = calls[0] if calls else None
        r["tool_name"] = bool(call) and call["name"] == want["name"]
        r["tool_args"] = bool(call) and call["name"] == want["name"] and call["arguments"] == want["arguments"]
        r["on_intent"] = r["tool_name"]
        r["readable"] = stopped and bool(call) and not garbage
    else:
        low = prose.lower()
        keys = INTENT_KEYS.get(check["intent"], [])
        copied = all(c in prose for c in check["copy"])
        r["on_intent"] = not calls and (any(k in low for k in keys) if keys else copied)
        r["readable"] = stopped and bool(ws) and not garbage
        if check["copy"]:
            r["copy"] = copied
    if "metric" in check:
        r["metrics"] = metric_scores(check, prose, calls, r["finish"])
    return r


def points(d):
    """The checks a dialogue is asked at: its tool call, if any, and its last assistant turn; in corpus v3 every
    check that a metric scores."""
    if any("metric" in c for c in d["checks"]):
        return [c for c in d["checks"] if c["metric"]]
    tool = [c for c in d["checks"] if c["kind"] == "tool"]
    last = d["checks"][-1]
    return tool[:1] + ([last] if last not in tool[:1] else [])


def in_prompt_range(row):
    """Whether the ask's system prompt is in issue 13's range, the length of a real support prompt."""
    return 400 <= row["system_tokens"] <= 700


def cell(figure):
    """A (share, count) figure of summarize() as the tables print it."""
    share, count = figure
    return "—" if share is None else f"{share:.1f} % (n={count})"


def summarize(rows):
    def pct(xs):
        xs = list(xs)
        return (100.0 * sum(xs) / len(xs), len(xs)) if xs else (None, 0)

    out = {
        "on_intent_readable": pct(r["on_intent"] and r["readable"] for r in rows),
        "copy_exact": pct(r["copy"] for r in rows if "copy" in r),
        "tool_name": pct(r["tool_name"] for r in rows if "tool_name" in r),
        "tool_args_exact": pct(r["tool_args"] for r in rows if "tool_args" in r),
        "stopped": pct(r["stopped"] for r in rows),
    }
    n_words = sum(r["words"] for r in rows)
    out["garbage_word_rate"] = (100.0 * sum(r["garbage"] for r in rows) / max(1, n_words), n_words)
    out["ran_to_max_tokens"] = (sum(r["finish"] == "length" for r in rows), len(rows))
    out["errors"] = (sum(r["finish"].startswith("error") for r in rows), len(rows))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default="http://localhost:8080")
    ap.add_argument("--heldout", required=True)
    ap.add_argument("--vocab-from", required=True, help="training corpus JSONL: its words are the language")
    ap.add_argument("--min-dialogues", type=int, default=30,
                    help="a training word counts as language only if this many dialogues use it (keeps the coined "
                         "names out, so that a made-up name in a reply counts as garbage)")
    ap.add_argument("--tokenizer", required=True, help="tokenizer.json, to measure system prompts in tokens")
    ap.add_argument("--limit", type=int, default=None, help="first N dialogues only (a quick subset)")
    ap.add_argument("--max-tokens", type=int, default=160)
    ap.add_argument("--tools-api", action="store_true", help="send tools as the OpenAI API's tools")
    ap.add_argument("--modes", default="greedy,default")
    ap.add_argument("--out", default=None, help="write every reply and score here (JSON)")
    ap.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()

    uses = collections.Counter()
    with open(a.vocab_from, encoding="utf-8") as f:
        for line in f:
            uses.update(set(words(json.loads(line)["text"])))
    known = {w for w, n in uses.items() if n >= a.min_dialogues}
    tok = BPETokenizer.load(a.tokenizer)
    with open(a.heldout, encoding="utf-8") as f:
        dialogues = [json.loads(line) for line in f][:a.limit]

    with urllib.request.urlopen(a.url + "/v1/models", timeout=a.timeout) as r:
        model = json.loads(r.read())["data"][0]["id"]
    results = {}
    for mode in a.modes.split(","):
        rows = []
        for i, d in enumerate(dialogues):
            sys_tokens = len(tok.encode(d["messages"][0]["content"]))
            for check in points(d):
                history = d["messages"][:check["turn"]]
                body = {"model": model, "max_tokens": a.max_tokens, "seed": i}
                if mode == "greedy":
                    body["temperature"] = 0
                if a.tools_api:
                    body["messages"] = api_messages(history)
                    if d["tools"]:
                        body["tools"] = d["tools"]
                else:
                    body["messages"] = inline_messages(history, d["tools"])
                try:
                    choice = post(a.url, body, a.timeout)["choices"][0]
                except urllib.error.HTTPError as e:  # e.g. a prompt longer than the model's context
                    choice = {"message": {"content": ""}, "finish_reason": f"error {e.code}"}
                said = json.dumps(history, ensure_ascii=False)
                # a specific the conversation never held (a name the customer did not give, a support address
                # cut from a short prompt) cannot be copied: the corpus writes it anyway, the check leaves it out
                check = dict(check, copy=[c for c in check["copy"] if c in said])
                r = score(check, choice, known | set(words(said)))
                r.update({"dialogue": i, "turn": check["turn"], "intent": check["intent"], "kind": check["kind"],
                          "system_tokens": sys_tokens, "want": check.get("tool") or check["copy"],
                          "sector": d.get("sector"), "style": d.get("style")})
                rows.append(r)
            print(f"\r{mode}: {i + 1}/{len(dialogues)}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        mid = [r for r in rows if in_prompt_range(r)]
        results[mode] = {"all": summarize(rows), "system_400_700": summarize(mid), "rows": rows}

    print(f"model {model}; held-out dialogues: {len(dialogues)}; tools via {'API' if a.tools_api else 'template text'}")
    metrics = ["on_intent_readable", "copy_exact", "tool_name", "tool_args_exact", "stopped", "garbage_word_rate"]
    print("| mode | system prompt | " + " | ".join(metrics) + " | ran to max_tokens | HTTP errors |")
    print("|---" * (len(metrics) + 4) + "|")
    for mode, res in results.items():
        for part in ("all", "system_400_700"):
            s = res[part]
            cells = [cell(s[m]) for m in metrics]
            label = "all" if part == "all" else "400–700 tokens"
            print(f"| {mode} | {label} | " + " | ".join(cells) +
                  f" | {s['ran_to_max_tokens'][0]} of {s['ran_to_max_tokens'][1]} | {s['errors'][0]} |")
    if any("metrics" in r for res in results.values() for r in res["rows"]):
        print("\nIssue 35's metrics (corpus v3 held-out: sectors, styles and tool names training never saw)")
        parts = {"all": lambda r: True,
                 "issue 35's four businesses": lambda r: r["sector"] in STRANGER_STYLES,
                 "unseen styles (" + ", ".join(HELDOUT_STYLES) + ")": lambda r: r["style"] in HELDOUT_STYLES}
        print("\n".join(metric_table({mode: res["rows"] for mode, res in results.items()}, parts)))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()

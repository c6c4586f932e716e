"""Which specifics a model copies: each specific of an evaluation's replies and tool calls scored on its own.

eval.py scores a reply as a whole (every specific it needs, exactly); this splits the same replies by specific:
numbers against words, and words by their first letter, a vowel or not. A word said after a space starts with
a token that byte-level BPE merged with the space, and " I", " E", " A", " O" are among the corpus's commonest
tokens, so a name like " Ivan" starts with a token that is usually not part of a name.

  /usr/bin/python3 -m tools.model.eval.specifics replies.json [more.json ...]

The files are eval.py's --out (the evaluation's JSON, which keeps every reply).
"""
import argparse
import collections
import json

from .eval import TOOL_CALL, parse_calls


def kind_of(value):
    if value.replace(" ", "").isdigit():
        return "number"
    return "word, vowel first" if value[0].lower() in "aeiou" else "word, consonant first"


def called_arguments(text):
    """The arguments of the reply's first tool call as eval.py parses it, or {} when there is none to read."""
    calls = parse_calls({"message": {"content": text}})
    arguments = calls[0]["arguments"] if calls and calls[0] else None
    return arguments if isinstance(arguments, dict) else {}


def tally(rows):
    """(where, kind) -> [copied, asked] over every specific of the rows."""
    counts = collections.defaultdict(lambda: [0, 0])
    for row in rows:
        if row["kind"] == "tool":
            got = called_arguments(row["text"])
            pairs = [(str(v), str(got.get(k)) == str(v)) for k, v in row["want"]["arguments"].items()]
            where = "tool arguments"
        else:
            prose = TOOL_CALL.sub(" ", row["text"])  # as eval.py scores a reply: outside any tool call
            pairs = [(v, v in prose) for v in row["want"]]
            where = "replies"
        for value, copied in pairs:
            count = counts[(where, kind_of(value))]
            count[0] += copied
            count[1] += 1
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="+", help="eval.py --out files, counted together")
    a = ap.parse_args()
    by_mode = collections.defaultdict(list)
    for path in a.files:
        with open(path, encoding="utf-8") as f:
            for mode, result in json.load(f).items():
                by_mode[mode] += result["rows"]
    print("| mode | where | specific | copied exactly |")
    print("|---|---|---|---|")
    for mode, rows in by_mode.items():
        for (where, kind), (copied, asked) in sorted(tally(rows).items()):
            print(f"| {mode} | {where} | {kind} | {100 * copied / asked:.1f} % ({copied} of {asked}) |")


if __name__ == "__main__":
    main()

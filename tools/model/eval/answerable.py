"""Copy exact over the asks the conversation can answer: an evaluation's replies re-scored without the asks whose
specifics traffic_corpus.unanswerable() rejects. Held-out sets written before commit 54891df have such asks
("Which item was that?" about an item never named; a thanks naming a customer who never gave a name, whose
name only the generator's own earlier replies hold); the sets written since have none, so both figures agree.

  /usr/bin/python3 -m tools.model.eval.answerable replies.json --heldout SET/heldout.jsonl

replies.json is eval.py's --out on that set (it keeps every reply).
"""
import argparse
import json

from ..traffic_corpus import unanswerable
from .eval import cell, in_prompt_range, summarize


def copy_exact(rows):
    """eval.py's copy-exact figure of these replies, as its table prints it."""
    return cell(summarize(rows)["copy_exact"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("replies", help="eval.py --out of the set")
    ap.add_argument("--heldout", required=True, help="the set's heldout.jsonl, as eval.py read it")
    a = ap.parse_args()
    with open(a.heldout, encoding="utf-8") as f:
        rejected = [set(unanswerable(json.loads(line))) for line in f]
    with open(a.replies, encoding="utf-8") as f:
        results = json.load(f)
    print("| mode | system prompt | copy exact (eval.py) | copy exact, answerable asks | asks left out |")
    print("|---|---|---|---|---|")
    for mode, result in results.items():
        asks = [r for r in result["rows"] if "copy" in r]
        for part, rows in (("all", asks), ("400–700 tokens", [r for r in asks if in_prompt_range(r)])):
            kept = [r for r in rows if not any((r["turn"], v) in rejected[r["dialogue"]] for v in r["want"])]
            print(f"| {mode} | {part} | {copy_exact(rows)} | {copy_exact(kept)} | {len(rows) - len(kept)} |")


if __name__ == "__main__":
    main()

"""Issue 35's per-metric scores for corpus v3's held-out dialogues (support_corpus.py), used by eval.py.

A check of that corpus names what its reply is scored on: "value" (the fact's value, copied verbatim: specific),
"reference" (the customer's reference, repeated), metric "recall" (what the customer said in turn 1), "dont_know"
(the prompt's contact line where the prompt holds no answer), "refusal" (an off-topic ask declined), a tool check
(the right declared tool with the customer's arguments), "no_tool" (tools are declared, none applies: no call);
every ask also counts as a loop when it runs to max_tokens.
"""
# metric -> (issue 35's target in %, whether the target is a ceiling); None: reported without a target
TARGETS = {"specific": (70, False), "reference": (80, False), "recall": (70, False), "tool": (80, False),
           "no_tool": (90, False), "dont_know": None, "refusal": None, "loop": (1, True)}
REFUSAL_KEYS = ("only help", "can't help", "cannot help")


def metric_scores(check, prose, calls, finish):
    """{metric: passed} for every metric the check is scored on; prose is the reply without its tool calls."""
    out = {"loop": finish == "length"}
    if check["kind"] == "tool":
        call = calls[0] if calls else None
        out["tool"] = bool(call) and call == {"name": check["tool"]["name"], "arguments": check["tool"]["arguments"]}
        return out
    if "value" in check:
        out["specific"] = not calls and check["value"] in prose
    if "reference" in check:
        out["reference"] = check["reference"] in prose
    if check.get("metric") in ("recall", "dont_know"):
        out[check["metric"]] = not calls and all(c in prose for c in check["copy"])
    if check.get("metric") == "refusal":
        out["refusal"] = not calls and any(k in prose.lower() for k in REFUSAL_KEYS)
    if check.get("no_tool"):
        out["no_tool"] = not calls
    return out


def summarize_metrics(rows):
    """metric -> (share in %, asks scored on it), over the rows that carry metric scores."""
    out = {}
    for metric in TARGETS:
        xs = [r["metrics"][metric] for r in rows if metric in r.get("metrics", {})]
        out[metric] = (100.0 * sum(xs) / len(xs), len(xs)) if xs else (None, 0)
    return out


def met(metric, share):
    target = TARGETS[metric]
    if target is None or share is None:
        return ""
    return " ✓" if (share <= target[0] if target[1] else share >= target[0]) else " ✗"


def metric_table(results, parts):
    """Markdown lines: one row per mode and part (name -> row filter), one column per metric with ✓/✗ by target."""
    head = [f"{m} ({'≤' if TARGETS[m][1] else '≥'}{TARGETS[m][0]} %)" if TARGETS[m] else m for m in TARGETS]
    lines = ["| mode | held-out part | " + " | ".join(head) + " |", "|---" * (len(TARGETS) + 2) + "|"]
    for mode, rows in results.items():
        for name, keep in parts.items():
            s = summarize_metrics([r for r in rows if keep(r)])
            cells = ["—" if s[m][0] is None else f"{s[m][0]:.1f} % (n={s[m][1]}){met(m, s[m][0])}" for m in TARGETS]
            lines.append(f"| {mode} | {name} | " + " | ".join(cells) + " |")
    return lines


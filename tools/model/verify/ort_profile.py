"""Sums an ONNX Runtime profile (PassBench's profile=PREFIX, or any session's enable_profiling) by op type and by
node: where a pass's time goes, e.g. the LM head's share of a decode step against the layers' MatMulNBits.

  /usr/bin/python3 tools/model/verify/ort_profile.py PROFILE.json [--top 8]

Only kernel events count ("cat": "Node", names ending in _kernel_time); each node's median over the profile's
runs (PassBench's warm-up included, so profile one case per invocation). Times are wall: on a loaded machine read
the shares, not the milliseconds.
"""
import argparse
import collections
import json
import statistics


def summarise(events):
    """({node: (op type, median µs per run)}, runs) over the profile's kernel events. The median, not the mean:
    on a shared machine a node that was preempted once shows the wait as its time."""
    runs = sum(1 for e in events if e.get("cat") == "Session" and e.get("name") == "model_run")
    durations = collections.defaultdict(list)
    ops = {}
    for e in events:
        if e.get("cat") != "Node" or not e.get("name", "").endswith("_kernel_time"):
            continue
        node = e["name"][:-len("_kernel_time")]
        ops[node] = e.get("args", {}).get("op_name", "?")
        durations[node].append(e["dur"])
    return {node: (ops[node], statistics.median(d)) for node, d in durations.items()}, runs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("profile")
    parser.add_argument("--top", type=int, default=8, help="how many of the costliest nodes to list")
    args = parser.parse_args(argv)
    with open(args.profile) as f:
        nodes, runs = summarise(json.load(f))
    by_op = collections.Counter()
    for op, us in nodes.values():
        by_op[op] += us
    total = sum(by_op.values()) or 1
    print("%d runs; the nodes' median times add up to %.1f ms a run" % (runs, total / 1000))
    for op, us in by_op.most_common():
        print("  %-28s %8.2f ms  %5.1f %%" % (op, us / 1000, 100.0 * us / total))
    print("costliest nodes:")
    for node, (op, us) in sorted(nodes.items(), key=lambda kv: -kv[1][1])[:args.top]:
        print("  %-50s %-16s %8.2f ms  %5.1f %%" % (node, op, us / 1000, 100.0 * us / total))

if __name__ == "__main__":
    main()

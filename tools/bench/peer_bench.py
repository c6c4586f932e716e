"""The peer benchmark: kvshare against llama.cpp (node-llama-cpp) and transformers.js on the same weights and the
same token-id prompts, interleaved, medians, ratios. Run through tools/bench/peers.sh (docs/benchmarks.md).

  /usr/bin/python3 tools/bench/peer_bench.py MODEL_DIR --work DIR --jar JAR [--reps 3] [--long 2048] ...
      [--engines "kvshare int4" "llama.cpp Q4_0"]   (a subset of the columns; the files only they need are made)

MODEL_DIR is an fp32 export (models/bench/qwen2.5-0.5b). Into --work go, once: the GGUFs (tools/model/onnx_to_gguf,
F32, Q8_0, Q4_0), the int4 and int8 exports (tools/model/quantize.py) beside links to the export's files, and
transformers.js's directory layout (links). Each repetition draws fresh random prompts (so no engine starts with
them cached) and runs every engine on them in turn: kvshare fp32, int4, int8 (three services over HTTP, started
once), llama.cpp F32, Q8_0, Q4_0 and transformers.js (one node process each per repetition).

Measures (tools/bench/peers/scenarios.mjs runs the same ones in the node engines):
  decode      a 32-token prompt, 64 greedy tokens: tokens after the first / the time after the first
  prefill     a cold --long-token prompt to its first token
  again       the same prompt at once again (what the engine reuses is printed beside it)
  turn 2      a --turn1-token prompt, the engine's own 32-token reply, a 68-token message: turn 2's first token
  16 clients  16 distinct 32-token prompts at once, 64 tokens each: generated tokens / wall time
"""
import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
PEERS = os.path.join(HERE, "peers")
EXPORT_FILES = ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                "model.onnx", "model.onnx.data")
# the exports kvshare serves: label -> (file in the work export dir, quantize.py arguments). int4 is the CPU recipe
# of docs/models.md ("4-bit on a CPU"); its LM head is 4-bit as llama.cpp Q4_0's is (the tied token_embd, Q4_0).
KVSHARE = {"fp32": ("model.onnx", None),
           "int4": ("model_q4.onnx", ["--layout", "q4", "--accuracy-level", "4", "--block-size", "128", "--lm-head", "4",
                                      "--last-logits"]),
           "int8": ("model_int8.onnx", ["--layout", "int8", "--per-channel"])}
GGUF_TYPES = ("F32", "Q8_0", "Q4_0")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def load():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


# ---------------------------------------------------------------- preparing the files (once per work dir)

def link(source, target):
    if not os.path.lexists(target):
        os.symlink(source, target)


def prepare(model_dir, work, wanted):
    """The files the wanted engines run: an export is remade when the quantize.py arguments it was made with
    (kept beside it, FILE.args) are not today's."""
    export = os.path.join(work, "export")
    os.makedirs(export, exist_ok=True)
    for f in EXPORT_FILES:
        if os.path.exists(os.path.join(model_dir, f)):
            link(os.path.join(model_dir, f), os.path.join(export, f))
    for label, (file, args) in KVSHARE.items():
        stamp = os.path.join(export, file + ".args")
        made_with = open(stamp).read() if os.path.exists(stamp) else None
        if args and "kvshare " + label in wanted and made_with != " ".join(args):
            log("making the %s export (tools/model/quantize.py %s)" % (label, " ".join(args)))
            subprocess.run([sys.executable, "-m", "tools.model.quantize", os.path.join(export, "model.onnx"),
                            os.path.join(export, file)] + args, cwd=ROOT, check=True)
            with open(stamp, "w") as f:
                f.write(" ".join(args))
    for kind in GGUF_TYPES:
        out = os.path.join(work, "model-%s.gguf" % kind)
        if not os.path.exists(out) and any(w.startswith("llama.cpp " + kind) for w in wanted):
            log("writing %s" % out)
            subprocess.run([sys.executable, "-m", "tools.model.onnx_to_gguf", model_dir, out + ".part",
                            "--type", kind.lower()], cwd=ROOT, check=True)
            os.rename(out + ".part", out)
    tjs = os.path.join(work, "transformers.js", "model")
    os.makedirs(os.path.join(tjs, "onnx"), exist_ok=True)
    for f in EXPORT_FILES:
        if os.path.exists(os.path.join(model_dir, f)):
            link(os.path.join(model_dir, f), os.path.join(tjs, "onnx" if f.startswith("model.") else "", f))
    return export


def write_prompts(path, seed, vocab, args):
    rng = random.Random(seed)

    def ids(n):
        return [rng.randrange(3, vocab) for _ in range(n)]  # 0-2 are the special tokens of the bench tokenizer

    prompts = dict(short=ids(32), long=ids(args.long), turn1=ids(args.turn1), message=ids(68),
                   clients=[ids(32) for _ in range(args.clients)], decodeTokens=64, replyTokens=32,
                   clientTokens=64)
    with open(path, "w") as f:
        json.dump(prompts, f)
    return prompts


# ---------------------------------------------------------------- engines

class NodeEngine:
    """One of the node scripts in tools/bench/peers: a fresh process per repetition (loading is not timed)."""

    def __init__(self, label, command, threads=2):
        self.label, self.command, self.threads = label, command, threads

    def run(self, prompts_path, prompts):
        done = subprocess.run(["node"] + self.command + [prompts_path, str(self.threads)], cwd=PEERS,
                              capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError("%s failed: %s" % (self.label, done.stderr[-2000:]))
        return json.loads(done.stdout.strip().splitlines()[-1])


class KvshareEngine:
    """The service (java -jar) on one export, started once; the measures over HTTP /v1/completions."""

    def __init__(self, label, jar, export, file, port):
        self.label, self.port = label, port
        command = ["java", "-jar", jar, "--server.port=%d" % port, "--kvshare.model.path=" + export,
                   "--kvshare.model.file=" + file, "--kvshare.generation.max-batch-size=16",
                   "--kvshare.generation.max-concurrent=16", "--kvshare.generation.max-queued=64",
                   "--logging.level.root=warn"]
        self.log = open(os.path.join(os.path.dirname(export), "kvshare-%s.log" % label), "w")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout=900):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("kvshare %s exited (%s)" % (self.label, self.log.name))
            try:
                status, _ = self.request("GET", "/actuator/health/readiness")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(2)
        raise RuntimeError("kvshare %s not ready in %d s" % (self.label, timeout))

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()

    def request(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        try:
            c.request(method, path, json.dumps(body) if body else None, {"Content-Type": "application/json"})
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def complete(self, prompt, max_tokens):
        """Wall time to the whole answer, its token ids and the prompt tokens the cache supplied."""
        start = time.perf_counter()
        status, body = self.request("POST", "/v1/completions", dict(
            model=self.model, prompt=prompt, max_tokens=max_tokens, temperature=0, ignore_eos=True,
            return_token_ids=True))
        elapsed = time.perf_counter() - start
        if status != 200:
            raise RuntimeError("kvshare %s: HTTP %d %s" % (self.label, status, body[:300]))
        answer = json.loads(body)
        usage = answer.get("usage") or {}
        cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0)
        return elapsed, answer["choices"][0]["token_ids"], cached

    def stream_times(self, prompt, max_tokens):
        """Token ids and the arrival time of each, from the event stream."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        try:
            c.request("POST", "/v1/completions", json.dumps(dict(
                model=self.model, prompt=prompt, max_tokens=max_tokens, temperature=0, ignore_eos=True,
                return_token_ids=True, stream=True)), {"Content-Type": "application/json"})
            r = c.getresponse()
            ids, times = [], []
            for line in r:
                line = line.decode().strip()
                if not line.startswith("data:") or line == "data: [DONE]":
                    continue
                for choice in json.loads(line[5:]).get("choices", []):
                    got = choice.get("token_ids") or []
                    ids += got
                    times += [time.perf_counter()] * len(got)
            return ids, times
        finally:
            c.close()

    def run(self, _prompts_path, prompts):
        status, body = self.request("GET", "/v1/models")
        self.model = json.loads(body)["data"][0]["id"]
        self.complete(prompts["short"][:8], 2)  # warm-up
        out = {"engine": "kvshare " + self.label}
        ids, times = self.stream_times(prompts["short"], prompts["decodeTokens"])
        first = times.count(times[0])  # tokens that came in the first chunk
        out["decodeIds"] = ids
        out["decodeTokS"] = (len(ids) - first) / (times[-1] - times[0])
        out["prefillS"], _, _ = self.complete(prompts["long"], 1)
        out["prefillTokens"] = len(prompts["long"])
        out["repeatS"], _, out["repeatReused"] = self.complete(prompts["long"], 1)
        _, reply, _ = self.complete(prompts["turn1"], prompts["replyTokens"])
        turn2 = prompts["turn1"] + reply + prompts["message"]
        out["turn2S"], _, out["turn2Reused"] = self.complete(turn2, 1)
        out["turn2Tokens"] = len(turn2)
        out["clientsTokS"], out["clientsTokens"] = self.clients(prompts["clients"], prompts["clientTokens"])
        return out

    def clients(self, prompts, max_tokens):
        counts = [0] * len(prompts)

        def one(i):
            counts[i] = len(self.complete(prompts[i], max_tokens)[1])

        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(prompts))]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return sum(counts) / (time.perf_counter() - start), sum(counts)


# ---------------------------------------------------------------- the table

ROWS = [("decode, 1 stream, tok/s", "decodeTokS", True),
        ("prefill %(long)s tokens, s", "prefillS", False),
        ("the same prompt again, s", "repeatS", False),
        ("turn 2 of a %(turn2)s-token conversation, s", "turn2S", False),
        ("%(clients)s clients x 64 tokens, aggregate tok/s", "clientsTokS", True)]
COLUMNS = ["kvshare fp32", "kvshare int4", "kvshare int8", "transformers.js",
           "llama.cpp F32", "llama.cpp Q8_0", "llama.cpp Q4_0"]
PAIRS = [("kvshare fp32", "llama.cpp F32"), ("kvshare int4", "llama.cpp Q4_0"), ("kvshare int8", "llama.cpp Q8_0"),
         ("transformers.js", "llama.cpp F32")]
REUSED = {"repeatS": "repeatReused", "turn2S": "turn2Reused"}


def median(runs, key):
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def table(results, loads, reps, args):
    names = {"long": "{:,}".format(args.long), "clients": args.clients,
             "turn2": "{:,}".format(args.turn1 + 32 + 68)}
    columns = COLUMNS + [c for c in results if c not in COLUMNS]
    lines = ["| measure | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for title, key, _ in ROWS:
        cells = []
        for column in columns:
            m = median(results.get(column, []), key)
            cell = "–" if m is None else ("%.1f" % m if m >= 10 else "%.2f" % m)
            if m is not None and key in REUSED:
                cell += " (%d reused)" % median(results[column], REUSED[key])
            cells.append(cell)
        lines.append("| %s | %s |" % (title % names, " | ".join(cells)))
    lines += ["", "Ratios (the first engine's figure over the second's: above 1 is faster for tok/s, slower for s):",
              "", "| measure | " + " | ".join("%s / %s" % p for p in PAIRS) + " |", "|---" * (len(PAIRS) + 1) + "|"]
    for title, key, _ in ROWS:
        cells = []
        for a, b in PAIRS:
            x, y = median(results.get(a, []), key), median(results.get(b, []), key)
            cells.append("–" if x is None or y is None or y == 0 else "%.2f" % (x / y))
        lines.append("| %s | %s |" % (title % names, " | ".join(cells)))
    kv = results.get("kvshare fp32", [])
    same = {peer: [sum(1 for _ in _leading(k["decodeIds"], p["decodeIds"])) for k, p in zip(kv, results.get(peer, []))]
            for peer in ("llama.cpp F32", "transformers.js")}
    lines += ["", "Greedy ids on the 32-token prompt, leading tokens equal to kvshare fp32's (of 64), per repetition: "
              "llama.cpp F32 %s, transformers.js %s." % (same["llama.cpp F32"], same["transformers.js"]),
              "Load average (1 min) before each engine's run: median %.1f, range %.1f-%.1f; %d repetitions, "
              "medians; every engine on 2 threads unless its column says otherwise."
              % (statistics.median(loads), min(loads), max(loads), reps)]
    return "\n".join(lines)


def _leading(a, b):
    for x, y in zip(a, b):
        if x != y:
            return
        yield x


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model_dir")
    p.add_argument("--work", required=True, help="where the GGUFs, quantized exports and prompts go")
    p.add_argument("--jar", required=True, help="the kvshare service jar")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--long", type=int, default=2048)
    p.add_argument("--turn1", type=int, default=1400)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--port", type=int, default=18480)
    p.add_argument("--one-thread", nargs="*", default=[], choices=GGUF_TYPES,
                   help="also run llama.cpp on these GGUFs with 1 thread: its 2 threads wait on each other at every "
                        "op, which a loaded machine punishes")
    p.add_argument("--out", help="also write the table and the raw runs (JSON) here")
    p.add_argument("--engines", nargs="*", help="run only these columns (e.g. \"kvshare int4\" \"llama.cpp Q4_0\"); "
                                                 "default all")
    args = p.parse_args(argv)
    model_dir, work = os.path.abspath(args.model_dir), os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(model_dir, "config.json")) as f:
        vocab = json.load(f)["vocab_size"]
    nodes = [NodeEngine("transformers.js", ["transformers.mjs", os.path.join(work, "transformers.js"), "model"])]
    nodes += [NodeEngine("llama.cpp " + k, ["llama.mjs", os.path.join(work, "model-%s.gguf" % k)]) for k in GGUF_TYPES]
    nodes += [NodeEngine("llama.cpp %s, 1 thread" % k, ["llama.mjs", os.path.join(work, "model-%s.gguf" % k)], 1)
              for k in args.one_thread]
    nodes = [e for e in nodes if args.engines is None or e.label in args.engines]
    served = [(i, label, file) for i, (label, (file, _)) in enumerate(KVSHARE.items())
              if args.engines is None or "kvshare " + label in args.engines]
    wanted = ["kvshare " + label for _, label, _ in served] + [e.label for e in nodes]
    if args.engines is not None and set(args.engines) - set(wanted):
        p.error("--engines: no column %s (columns: %s)" % (sorted(set(args.engines) - set(wanted)), ", ".join(
            ["kvshare " + k for k in KVSHARE] + ["transformers.js"] + ["llama.cpp " + k for k in GGUF_TYPES])))
    export = prepare(model_dir, work, wanted)
    kvshare = [KvshareEngine(label, args.jar, export, file, args.port + i) for i, label, file in served]
    engines = kvshare + nodes
    results = {e.label if isinstance(e, NodeEngine) else "kvshare " + e.label: [] for e in engines}
    loads = []
    try:
        for k in kvshare:
            k.wait_ready()
        for rep in range(args.reps):
            prompts_path = os.path.join(work, "prompts-%d.json" % rep)
            prompts = write_prompts(prompts_path, 1000 + rep, vocab, args)
            for e in engines:
                name = e.label if isinstance(e, NodeEngine) else "kvshare " + e.label
                loads.append(load())
                log("repetition %d: %s (load %.1f)" % (rep + 1, name, loads[-1]))
                run = e.run(prompts_path, prompts)
                run["load"] = loads[-1]
                results[name].append(run)
                log("  " + json.dumps({k: v for k, v in run.items() if k != "decodeIds"}))
                save(table(results, loads, rep + 1, args), results, args.out)  # a run cut short keeps what it ran
    finally:
        for k in kvshare:
            k.stop()
    print(table(results, loads, args.reps, args))


def save(text, results, out):
    if out:
        with open(out, "w") as f:
            json.dump({"table": text, "runs": results}, f, indent=1)


if __name__ == "__main__":
    main()

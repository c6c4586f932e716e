"""Issue 35's metrics in eval.py on corpus v3's held-out set: eval.py runs against a stand-in for the service's
OpenAI API on this machine, one that answers every ask with the corpus's own reply (every metric passes) and one
that answers like the shipped model did under the outside prompts (the trained tool name, a generic reply)."""
import contextlib
import http.server
import io
import json
import os
import sys
import tempfile
import threading
import unittest
from unittest import mock

from . import BUNDLED_MODEL, require

require("regex", "python3-regex")
from ..eval import eval as evaluation  # noqa: E402
from ..eval.generality import metric_scores  # noqa: E402
from ..support_corpus import generate  # noqa: E402


def gold_reply(message):
    """The corpus's assistant turn as the model writes it: text, or a Hermes <tool_call> block."""
    if message.get("tool_calls"):
        c = message["tool_calls"][0]["function"]
        return "<tool_call>\n" + json.dumps({"name": c["name"], "arguments": c["arguments"]}) + "\n</tool_call>"
    return message["content"]


def serve(answer):
    """A local /v1 server whose replies are answer(request body); returns (url, stop)."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, body):
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self.reply({"data": [{"id": "stand-in"}]})

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            content, finish = answer(body)
            self.reply({"choices": [{"message": {"role": "assistant", "content": content}, "finish_reason": finish}]})

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop():
        server.shutdown()
        server.server_close()
    return f"http://127.0.0.1:{server.server_address[1]}", stop


class GeneralityMetricsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dialogues = list(generate(40, seed=31, heldout=True))
        cls.dir = tempfile.TemporaryDirectory()
        cls.heldout = os.path.join(cls.dir.name, "heldout.jsonl")
        with open(cls.heldout, "w", encoding="utf-8") as f:
            for d in cls.dialogues:
                f.write(json.dumps(d, ensure_ascii=False) + "\n")
        # the asks as eval.py sends them (template text), each with the corpus's reply
        cls.gold = {}
        for d in cls.dialogues:
            for check in evaluation.points(d):
                ask = evaluation.inline_messages(d["messages"][:check["turn"]], d["tools"])
                cls.gold[json.dumps(ask)] = gold_reply(d["messages"][check["turn"]])

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def evaluate(self, answer):
        url, stop = serve(answer)
        out = os.path.join(self.dir.name, "replies.json")
        argv = ["eval", "--url", url, "--heldout", self.heldout, "--vocab-from", self.heldout, "--min-dialogues", "1",
                "--tokenizer", os.path.join(BUNDLED_MODEL, "tokenizer.json"), "--modes", "greedy", "--out", out]
        try:
            with mock.patch.object(sys, "argv", argv), contextlib.redirect_stdout(io.StringIO()) as printed, \
                    contextlib.redirect_stderr(io.StringIO()):
                evaluation.main()
        finally:
            stop()
        with open(out) as f:
            return json.load(f)["greedy"]["rows"], printed.getvalue()

    def shares(self, rows):
        out = {}
        for r in rows:
            for metric, passed in r.get("metrics", {}).items():
                out.setdefault(metric, []).append(passed)
        return {m: sum(xs) / len(xs) for m, xs in out.items()}

    def test_the_corpus_own_replies_pass_every_metric(self):
        rows, printed = self.evaluate(lambda body: (self.gold[json.dumps(body["messages"])], "stop"))
        shares = self.shares(rows)
        self.assertEqual({"specific", "reference", "recall", "tool", "no_tool", "dont_know", "loop"},
                         set(shares) - {"refusal"})
        self.assertEqual(0.0, shares.pop("loop"))
        self.assertEqual({m: 1.0 for m in shares}, shares)
        self.assertIn("issue 35's four businesses", printed)

    def test_a_model_that_recalls_its_trained_tool_and_a_stock_reply_fails_them(self):
        trained_call = '<tool_call>\n{"name": "lookup_order", "arguments": {"order_id": "123456"}}\n</tool_call>'

        def shipped_like(body):
            if "<tools>" in body["messages"][0]["content"] and body["messages"][-1]["role"] == "user":
                return trained_call, "stop"
            return "I can check that for you. What is your order number?", "stop"
        shares = self.shares(self.evaluate(shipped_like)[0])
        for metric in ("specific", "tool", "recall", "dont_know"):
            self.assertEqual(0.0, shares[metric], metric)
        self.assertLess(shares["no_tool"], 0.5)

    def test_a_reply_that_runs_to_max_tokens_counts_as_a_loop(self):
        check = {"kind": "reply", "metric": "specific", "value": "£49", "copy": ["£49"]}
        self.assertEqual({"loop": True, "specific": True},
                         metric_scores(check, "The fee is £49 £49 £49", [], "length"))
        self.assertEqual({"loop": False, "specific": False}, metric_scores(check, "The fee is £94.", [], "stop"))


if __name__ == "__main__":
    unittest.main()

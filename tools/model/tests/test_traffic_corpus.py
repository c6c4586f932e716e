"""The traffic corpus generator: reproducible from its seed, its replies copy only what a source gave, and its
text is the chat template's rendering of its messages, which the bundled tokenizer round-trips."""
import os
import unittest

from . import BUNDLED_MODEL, require

require("regex", "python3-regex")
from ..bpe_tokenizer import BPETokenizer, render_chat  # noqa: E402
from ..traffic_corpus import drills, generate, unanswerable  # noqa: E402


class TrafficCorpusTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.train = list(generate(24, seed=11, heldout=False, per_prompt=4)) + list(drills(6, 13, 6, 3))
        cls.heldout = list(generate(12, seed=12, heldout=True))

    def test_the_same_seed_gives_the_same_dialogues(self):
        self.assertEqual(self.heldout, list(generate(12, seed=12, heldout=True)))
        self.assertNotEqual(self.heldout, list(generate(12, seed=13, heldout=True)))

    def test_no_reply_copies_what_no_source_said(self):
        for d in self.train + self.heldout:
            with self.subTest(group=d["group"], company=d["company"]):
                self.assertEqual([], list(unanswerable(d)))

    def test_the_text_is_the_rendered_conversation_and_round_trips_through_the_bundled_tokenizer(self):
        tokenizer = BPETokenizer.load(os.path.join(BUNDLED_MODEL, "tokenizer.json"))
        for d in self.train + self.heldout:
            with self.subTest(group=d["group"]):
                self.assertIn(d["text"], (render_chat(d["messages"], tools=d["tools"]),
                                          render_chat(d["messages"], tools=d["tools"], compact_tools=True)))
                self.assertEqual(d["text"], tokenizer.decode(tokenizer.encode(d["text"]), skip_special=False))

    def test_dialogues_under_one_operator_share_its_system_prompt(self):
        for group in {d["group"] for d in self.train[:24]}:
            prompts = {d["messages"][0]["content"] for d in self.train[:24] if d["group"] == group}
            self.assertEqual(1, len(prompts), group)


if __name__ == "__main__":
    unittest.main()

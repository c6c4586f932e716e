"""Corpus v3 (support_corpus.py): reproducible from its seed, its held-out split shares no sector, style or tool word
with training, every reply copies a value the prompt or the customer gave, and every call names a declared tool."""
import json
import random
import re
import unittest

from . import require

require("regex", "python3-regex")
from ..bpe_tokenizer import render_chat  # noqa: E402
from ..support_corpus import (HELDOUT_OBJECTS, HELDOUT_SECTORS, HELDOUT_STYLES, HELDOUT_VERBS,  # noqa: E402
                              OBJECTS, SECTORS, STRANGER_STYLES, STYLES, VERBS, Business, generate, render_prompt,
                              split_of)
from ..traffic_corpus import unanswerable  # noqa: E402

TOOL_CALL = re.compile(r"<tool_call>\n(.*?)\n</tool_call>", re.S)


def tool_words(name):
    """The vocabulary words of a generated tool name: its verb and its object."""
    for verb in VERBS:
        if name.startswith(verb + "_"):
            return verb, name[len(verb) + 1:]
    raise AssertionError(f"{name} is not verb_object")


class SupportCorpusTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.train = list(generate(400, seed=21, heldout=False, per_prompt=4))
        cls.heldout = list(generate(160, seed=22, heldout=True))

    def test_the_same_seed_gives_the_same_dialogues(self):
        self.assertEqual(self.heldout[:40], list(generate(40, seed=22, heldout=True)))
        self.assertNotEqual(self.heldout[:40], list(generate(40, seed=23, heldout=True)))

    def test_the_split_vocabularies_are_disjoint(self):
        train_sectors, train_styles, train_verbs = split_of(False)
        held_sectors, held_styles, held_verbs = split_of(True)
        self.assertEqual(set(), set(train_sectors) & set(held_sectors))
        self.assertEqual(set(), set(train_verbs) & set(held_verbs))
        self.assertEqual(set(), set(train_styles) & set(HELDOUT_STYLES))
        self.assertTrue(set(held_styles) - set(train_styles), "held-out has a style training never sees")
        train_objects = {o for s in train_sectors for o in SECTORS[s][7]}
        self.assertEqual(set(), train_objects & set(HELDOUT_OBJECTS))
        self.assertLessEqual(set(STRANGER_STYLES), set(HELDOUT_SECTORS))

    def test_no_training_dialogue_uses_a_held_out_sector_style_or_tool_word(self):
        held_words = set(HELDOUT_VERBS) | set(HELDOUT_OBJECTS)
        for d in self.train:
            with self.subTest(group=d["group"], kind=d["kind"]):
                self.assertNotIn(d["sector"], HELDOUT_SECTORS)
                self.assertNotIn(d["style"], HELDOUT_STYLES)
                for t in d["tools"] or []:
                    self.assertEqual(set(), set(tool_words(t["function"]["name"])) & held_words)

    def test_held_out_dialogues_use_only_held_out_sectors_and_tool_words(self):
        for d in self.heldout:
            with self.subTest(group=d["group"], kind=d["kind"]):
                self.assertIn(d["sector"], HELDOUT_SECTORS)
                for t in d["tools"] or []:
                    verb, obj = tool_words(t["function"]["name"])
                    self.assertIn(verb, HELDOUT_VERBS)
                    self.assertIn(obj, HELDOUT_OBJECTS)
        self.assertEqual(set(HELDOUT_SECTORS), {d["sector"] for d in self.heldout})
        self.assertTrue(set(HELDOUT_STYLES) <= {d["style"] for d in self.heldout})

    def test_issue_35s_tools_are_among_the_held_out_names(self):
        names = {t["function"]["name"] for d in self.heldout for t in d["tools"] or []}
        self.assertTrue({"check_outage", "block_card", "track_delivery"} <= names, sorted(names))

    def test_every_answer_copies_its_facts_value_and_the_value_is_in_the_prompt(self):
        answered = 0
        for d in self.train + self.heldout:
            system = d["messages"][0]["content"]
            for check in d["checks"]:
                if "value" in check:
                    answered += 1
                    with self.subTest(group=d["group"], turn=check["turn"]):
                        self.assertIn(check["value"], d["messages"][check["turn"]]["content"])
                        self.assertIn(check["value"], system)
        self.assertGreater(answered, 200)

    def test_a_reply_repeats_the_reference_and_no_reply_copies_what_no_source_said(self):
        for d in self.train + self.heldout:
            with self.subTest(group=d["group"]):
                self.assertEqual([], list(unanswerable(d)))
                for check in d["checks"]:
                    if "reference" in check:
                        self.assertIn(check["reference"], d["messages"][check["turn"]]["content"])

    def test_a_reply_without_an_answer_gives_the_prompts_contact(self):
        for d in self.train + self.heldout:
            for check in d["checks"]:
                if check["metric"] == "dont_know":
                    (contact,) = check["copy"]
                    self.assertIn(contact, d["messages"][0]["content"])
                    self.assertIn(contact, d["messages"][check["turn"]]["content"])

    def test_every_style_renders_every_fact(self):
        r = random.Random(5)
        for sector in SECTORS:
            b = Business(r, sector in HELDOUT_SECTORS, sector)
            self.assertTrue(8 <= len(b.facts) <= 20, len(b.facts))
            for style in STYLES:
                with self.subTest(sector=sector, style=style):
                    prompt = render_prompt(r, b, style, 600)
                    for f in b.facts:
                        self.assertIn(f.value, prompt)

    def test_calls_name_declared_tools_parse_as_json_and_copy_the_customers_arguments(self):
        calls = 0
        for d in self.train + self.heldout:
            declared = {t["function"]["name"]: t["function"]["parameters"] for t in d["tools"] or []}
            conversation = d["text"][d["text"].index("<|im_end|>"):]  # after the system turn's format example
            for block in TOOL_CALL.findall(conversation):
                calls += 1
                call = json.loads(block)
                with self.subTest(group=d["group"], call=call["name"]):
                    self.assertIn(call["name"], declared)
                    self.assertEqual(set(declared[call["name"]]["required"]), set(call["arguments"]))
                    said = " ".join(m["content"] for m in d["messages"] if m["role"] == "user")
                    for value in call["arguments"].values():
                        self.assertIn(value, said)
        self.assertGreater(calls, 50)

    def test_dialogues_that_declare_tools_also_ask_what_no_tool_serves(self):
        no_tool = [c for d in self.train for c in d["checks"] if c.get("no_tool")]
        self.assertGreater(len(no_tool), 50)
        for d in self.train:
            if not d["tools"]:
                self.assertFalse(any(c.get("no_tool") for c in d["checks"]))

    def test_the_text_is_the_rendered_conversation(self):
        for d in self.train[:40] + self.heldout[:40]:
            self.assertIn(d["text"], (render_chat(d["messages"], tools=d["tools"]),
                                      render_chat(d["messages"], tools=d["tools"], compact_tools=True)))

    def test_dialogues_of_one_group_share_the_rendered_system_turn_that_train_py_computes_once(self):
        prefixes = {}
        for d in self.train:
            prefixes.setdefault(d["group"], set()).add(d["text"][:d["text"].index("<|im_end|>\n")])
        self.assertEqual(100, len(prefixes))
        self.assertEqual({1}, {len(p) for p in prefixes.values()})

    def test_there_are_hundreds_of_kinds(self):
        kinds = {f"{s}/{o}" for s in SECTORS for o in SECTORS[s][1]}
        self.assertGreaterEqual(len(kinds), 200)
        self.assertTrue(all(o in OBJECTS for s in SECTORS for o in SECTORS[s][7]))


if __name__ == "__main__":
    unittest.main()

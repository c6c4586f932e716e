"""The byte-level BPE tokenizer that wrote the bundled model's tokenizer.json, against that file and the torch
reference (tools/model/verify/reference.json, whose prompt ids ONNX Runtime Java and HF tokenizers are checked
against by tools/model/verify)."""
import json
import os
import tempfile
import unittest

from . import BUNDLED_MODEL, ROOT, require

require("regex", "python3-regex")
from ..bpe_tokenizer import SPACE, SPECIAL_TOKENS, BPETokenizer, apply_chat_template, train_bpe  # noqa: E402


class BundledTokenizerTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tokenizer = BPETokenizer.load(os.path.join(BUNDLED_MODEL, "tokenizer.json"))
        with open(os.path.join(ROOT, "tools", "model", "verify", "reference.json"), encoding="utf-8") as f:
            cls.reference = json.load(f)

    def test_the_reference_prompts_encode_to_the_ids_the_model_was_checked_with(self):
        self.assertGreater(self.reference["num_cases"], 0)
        for i in range(self.reference["num_cases"]):
            with self.subTest(case=i):
                text = self.reference[f"prompt_text_{i}"]
                self.assertEqual(self.reference[f"prompt_ids_{i}"], self.tokenizer.encode(text))
                self.assertEqual(text, self.tokenizer.decode(self.reference[f"prompt_ids_{i}"], skip_special=False))

    def test_the_reference_prompts_are_the_chat_template_of_one_question(self):
        prompt = self.reference["prompt_text_0"]
        question = prompt.split("<|im_start|>user\n")[1].split("<|im_end|>")[0]
        self.assertEqual(prompt, apply_chat_template([{"role": "user", "content": question}],
                                                     add_generation_prompt=True))

    def test_special_tokens_are_single_ids_and_text_round_trips(self):
        text = "<|im_start|>user\nGrüße, order 4417203 — “quoted” 👋<|im_end|>\n"
        ids = self.tokenizer.encode(text)
        for special in SPECIAL_TOKENS[1:]:
            self.assertIn(self.tokenizer.token_id(special), ids)
        self.assertEqual(text, self.tokenizer.decode(ids, skip_special=False))
        self.assertEqual("user\nGrüße, order 4417203 — “quoted” 👋\n", self.tokenizer.decode(ids))


class TrainingTest(unittest.TestCase):

    def test_a_trained_tokenizer_round_trips_its_corpus_and_saves_a_loadable_file(self):
        texts = ["<|im_start|>user\nWhere is my parcel 55123?<|im_end|>\n",
                 "The parcel left our warehouse on Monday; parcels take 3 days.",
                 "Returns are free within 30 days of delivery."] * 5
        vocab, merges = train_bpe(texts, 300)
        tokenizer = BPETokenizer(vocab, merges)
        for text in texts:
            self.assertEqual(text, tokenizer.decode(tokenizer.encode(text), skip_special=False))
        with tempfile.TemporaryDirectory() as out:
            tokenizer.save(out)
            loaded = BPETokenizer.load(os.path.join(out, "tokenizer.json"))
            self.assertEqual(tokenizer.encode(texts[1]), loaded.encode(texts[1]))

    def test_space_apart_never_merges_the_space_into_a_word(self):
        texts = ["the parcel, the price, the plan and the policy"] * 10

        def space_into_word(merges):
            return [m for m in merges if m[0] == SPACE and m[1][0].isalpha()]

        self.assertTrue(space_into_word(train_bpe(texts, 280)[1]))
        self.assertEqual([], space_into_word(train_bpe(texts, 280, space_apart=True)[1]))


if __name__ == "__main__":
    unittest.main()

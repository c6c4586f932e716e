"""copy_practice.RecallPractice: keyed facts, then values asked for by key, the loss on those values only."""
import os
import unittest

from . import BUNDLED_MODEL, require

torch = require("torch", "python3-torch")
require("regex", "python3-regex")
from ..bpe_tokenizer import BPETokenizer  # noqa: E402
from ..copy_practice import IGNORED, CopyPractice, RecallPractice  # noqa: E402
from ..llama import LlamaLM  # noqa: E402
from ..train import model_config  # noqa: E402


class RecallPracticeTest(unittest.TestCase):
    def setUp(self):
        self.tok = BPETokenizer.load(os.path.join(BUNDLED_MODEL, "tokenizer.json"))
        self.recall = RecallPractice(CopyPractice(self.tok, seed=3, batch=4), seed=3, rows=3, max_len=600)

    def lines(self, row):
        """(key, value) token lists of a row's lines: split at the separator (never in a span) and at the first
        colon (a coined key is letters only)."""
        sep, colon = self.recall.copier.sep, self.recall.colon[0]
        while row[-1] == sep:
            row = row[:-1]  # the padding of a shorter row
        out, line = [], None
        for token in row:
            if token == sep:
                line = []
                out.append(line)
            else:
                line.append(token)
        return [(tuple(line[:line.index(colon)]), line[line.index(colon) + 1:]) for line in out]

    def test_each_value_asked_for_is_the_value_its_key_had_in_the_facts(self):
        ids, labels = self.recall.batch_at(5)
        for row, row_labels in zip(ids.tolist(), labels.tolist()):
            lines = self.lines(row)
            facts, asked = lines[:-self.recall.queries], lines[-self.recall.queries:]
            value_of = dict(facts)
            self.assertEqual(len(value_of), len(facts), "every key is stated once")
            for key, value in asked:
                self.assertEqual(value_of[key], value)
            self.assertEqual([label for label in row_labels if label != IGNORED], sum((v for _, v in asked), []))

    def test_labels_are_the_next_token_and_the_rows_reach_across_hundreds_of_tokens(self):
        ids, labels = self.recall.batch_at(9)
        for row, row_labels in zip(ids.tolist(), labels.tolist()):
            for position, label in enumerate(row_labels):
                if label != IGNORED:
                    self.assertEqual(label, row[position + 1])
        lengths = [(row != self.recall.copier.sep).sum() for row in ids]
        self.assertTrue(all(self.recall.min_len <= n for n in lengths))
        self.assertTrue(any(n > 300 for n in lengths))

    def test_a_step_draws_the_same_rows_again_and_another_step_other_ones(self):
        self.assertTrue(torch.equal(self.recall.batch_at(4)[0], self.recall.batch_at(4)[0]))
        self.assertFalse(torch.equal(self.recall.batch_at(4)[0][:, :50], self.recall.batch_at(7)[0][:, :50]))

    def test_the_loss_counts_only_the_values_asked_for(self):
        torch.manual_seed(1)
        model = LlamaLM(model_config(self.tok, '{"num_hidden_layers": 1, "hidden_size": 16, "intermediate_size": '
                                                '32, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 8}'))
        loss, (right, total, digits_right, digits_total) = self.recall.loss(model, 2)
        _, labels = self.recall.batch_at(2)
        self.assertEqual(total, int((labels != IGNORED).sum()))
        self.assertLessEqual(digits_total, total)
        self.assertTrue(torch.isfinite(loss))


if __name__ == "__main__":
    unittest.main()

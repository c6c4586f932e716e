"""train.load_trained: what bundle.py and eval/copy_probe.py load, a finished checkpoint or a training's .resume
mid-way (with its config since train.py keeps it there, or rebuilt from --config for an older .resume)."""
import json
import os
import tempfile
import unittest

from . import BUNDLED_MODEL, require

torch = require("torch", "python3-torch")
require("regex", "python3-regex")
from ..bpe_tokenizer import BPETokenizer  # noqa: E402
from ..llama import LlamaLM  # noqa: E402
from ..train import load_trained, model_config  # noqa: E402

CONFIG = '{"num_hidden_layers": 1, "hidden_size": 16, "intermediate_size": 32, "num_attention_heads": 2, ' \
         '"num_key_value_heads": 1, "head_dim": 8, "tie_word_embeddings": true}'


class LoadTrainedTest(unittest.TestCase):
    def setUp(self):
        self.tok = BPETokenizer.load(os.path.join(BUNDLED_MODEL, "tokenizer.json"))
        torch.manual_seed(7)
        self.model = LlamaLM(model_config(self.tok, CONFIG))
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def saved(self, state):
        path = os.path.join(self.dir.name, "checkpoint.pt.resume")
        torch.save(state, path)
        return path

    def assert_same_weights(self, loaded):
        for name, value in self.model.state_dict().items():
            self.assertTrue(torch.equal(value, loaded.state_dict()[name]), name)
        self.assertFalse(loaded.training)

    def test_a_resume_that_keeps_its_config_loads_without_one(self):
        path = self.saved({"config": json.loads(self.model.cfg.to_json()), "model": self.model.state_dict(), "step": 20})
        self.assert_same_weights(load_trained(path, self.tok))

    def test_an_older_resume_takes_the_trainings_config(self):
        path = self.saved({"model": self.model.state_dict(), "step": 20})
        self.assert_same_weights(load_trained(path, self.tok, CONFIG))

    def test_an_older_resume_without_a_config_says_what_is_missing(self):
        path = self.saved({"model": self.model.state_dict(), "step": 20})
        with self.assertRaisesRegex(SystemExit, "--config"):
            load_trained(path, self.tok)


if __name__ == "__main__":
    unittest.main()

"""The bundled model's chat template three ways: bpe_tokenizer.render_chat (which wrote the training corpus),
jinja2 configured as Hugging Face's apply_chat_template configures it, and the service's Jinjava rendering
(src/test/resources/chat-template/cases.json, whose expected strings ChatTemplateCasesTest holds the Java side
to)."""
import json
import unittest

from . import BUNDLED_MODEL, CHAT_TEMPLATE_CASES, require

require("regex", "python3-regex")  # bpe_tokenizer's pre-tokenizer
from ..bpe_tokenizer import CHAT_TEMPLATE, render_chat  # noqa: E402


def load_cases():
    with open(CHAT_TEMPLATE_CASES, encoding="utf-8") as f:
        return json.load(f)["cases"]


class RenderChatTest(unittest.TestCase):

    def test_the_template_it_mirrors_is_the_one_the_bundled_model_ships(self):
        with open(f"{BUNDLED_MODEL}/tokenizer_config.json", encoding="utf-8") as f:
            self.assertEqual(json.load(f)["chat_template"], CHAT_TEMPLATE)

    def test_it_renders_as_the_service_does(self):
        cases = load_cases()
        self.assertGreater(len(cases), 5)
        for case in cases:
            with self.subTest(case["name"]):
                rendered = render_chat(case["messages"], case["add_generation_prompt"], case.get("tools"),
                                       compact_tools=True, compact_arguments=True)
                self.assertEqual(case["expected"], rendered)


class Jinja2Test(unittest.TestCase):
    """render_chat against the template itself, rendered by jinja2 as transformers' apply_chat_template does."""

    @classmethod
    def setUpClass(cls):
        sandbox = require("jinja2.sandbox", "python3-jinja2")
        # transformers: ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True), tojson = json.dumps
        # with ensure_ascii=False; the service's Jinjava writes tojson as Jackson does, without spaces.
        cls.environments = {}
        for compact in (False, True):
            env = sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
            env.filters["tojson"] = (lambda x, compact=compact: json.dumps(
                x, ensure_ascii=False, separators=(",", ":") if compact else None))
            cls.environments[compact] = env.from_string(CHAT_TEMPLATE)

    def render(self, case, compact):
        return self.environments[compact].render(messages=case["messages"], tools=case.get("tools"),
                                                 add_generation_prompt=case["add_generation_prompt"])

    def test_render_chat_is_the_template_as_hugging_face_renders_it(self):
        for case in load_cases():
            with self.subTest(case["name"]):
                self.assertEqual(self.render(case, compact=False),
                                 render_chat(case["messages"], case["add_generation_prompt"], case.get("tools")))

    def test_the_service_renders_the_template_as_jinja_does_but_for_tojson_spacing(self):
        for case in load_cases():
            with self.subTest(case["name"]):
                self.assertEqual(self.render(case, compact=True), case["expected"])


if __name__ == "__main__":
    unittest.main()

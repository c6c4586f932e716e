"""Tests of tools.model: python3 -m unittest discover -s tools/model/tests -t . (from the repository root; .ci/run
runs them). Standard library only; a test whose optional module (regex, jinja2, torch) is missing skips and says
which Debian package brings it."""
import importlib
import os
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BUNDLED_MODEL = os.path.join(ROOT, "src", "main", "resources", "kvshare", "bundled-model")
CHAT_TEMPLATE_CASES = os.path.join(ROOT, "src", "test", "resources", "chat-template", "cases.json")


def require(module, package):
    """The module, or a skip of the calling test module naming the Debian package that brings it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise unittest.SkipTest(f"{module} is not installed (Debian: apt-get install {package})")

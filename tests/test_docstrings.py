"""The examples in the package's docstrings (``>>>``) run and give what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import posecoach

MODULES = sorted(m.name for m in pkgutil.walk_packages(posecoach.__path__, "posecoach.")
                 if m.name != "posecoach.__main__")


def test_the_package_has_examples():
    """The walk finds the modules that hold examples, so the test below checks something."""
    finder = doctest.DocTestFinder()
    with_examples = {name for name in MODULES
                     if any(t.examples for t in finder.find(importlib.import_module(name)))}
    assert {"posecoach.assessment", "posecoach.synthetic"} <= with_examples


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS,
                             verbose=False, report=True)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed (see above)"

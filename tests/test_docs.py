"""Every runnable example in the library's docstrings runs and prints what it says."""

import doctest
import importlib
import pkgutil

import pytest

import tsrnn

MODULES = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(tsrnn.__path__, prefix="tsrnn.")
    if not name.startswith("tsrnn._bundled")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"

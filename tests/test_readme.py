"""The README is the user's manual: every Python example in it runs."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_examples_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert blocks, "README has no Python example"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:  # blocks build on each other, as a reader runs them
        exec(compile(block, str(README), "exec"), namespace)

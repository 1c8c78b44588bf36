"""The Makefile's set-up: torch from the CPU wheel index when asked, Chromium only by apt."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make")
needs_make = pytest.mark.skipif(MAKE is None, reason="make is not installed")


@needs_make
def test_torch_index_gives_pip_the_cpu_wheel_index():
    def pip_lines(*args):
        done = subprocess.run(
            [MAKE, "-n", "-B", ".venv/.installed", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return [line for line in done.stdout.splitlines() if "torch" in line]

    url = "https://download.pytorch.org/whl/cpu"
    assert pip_lines(f"TORCH_INDEX={url}") == [
        f'.venv/bin/pip install -q --index-url {url} "torch==2.13.0"'
    ]
    assert pip_lines() == ['.venv/bin/pip install -q  "torch==2.13.0"']  # PyPI, as before


@needs_make
def test_without_apt_the_browser_step_tries_nothing_and_says_nothing(tmp_path):
    done = subprocess.run(
        [MAKE, "--no-print-directory", "browser"],
        cwd=ROOT,
        env={"PATH": str(tmp_path)},  # no chromium, no apt-get
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""

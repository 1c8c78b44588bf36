"""The backtest report in a real browser: headless Chromium renders it, every image loads, and
nothing reaches the console. A screenshot goes to tests/artifacts/ for a person to look at.

Skipped, saying why, where Chromium is not installed (``make test`` installs Debian's
``chromium`` when apt is available).
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tsrnn import datasets
from tsrnn.evaluate.backtest import backtest
from tsrnn.models.neural import LSTMForecaster
from tsrnn.models.stats.naive import Naive, SeasonalNaive
from tsrnn.report.backtest_report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on PATH (install Debian's chromium package)"
)

# Runs first in <head>: records load and console errors; after load, counts broken images.
CHECK = """<script>
window.__errors = [];
window.addEventListener("error", function (e) {
  __errors.push(String(e.message || (e.target && (e.target.src || e.target.href)) || "error"));
}, true);
["error", "warn"].forEach(function (level) {
  var original = console[level];
  console[level] = function () {
    __errors.push(level + ": " + Array.prototype.join.call(arguments, " "));
    original.apply(console, arguments);
  };
});
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  document.documentElement.setAttribute("data-check", JSON.stringify(
    {images: images.length, broken: broken.length, errors: __errors}));
});
</script>"""


def chromium(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--virtual-time-budget=5000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    air = datasets.load("air_passengers")
    models = [
        Naive(),
        SeasonalNaive(),
        LSTMForecaster(horizon=12, hidden_size=8, num_layers=1, max_steps=6, val_every=3),
    ]
    result = backtest(models, air, horizon=12, n_windows=2, quantiles=[0.1, 0.9])
    folder = tmp_path_factory.mktemp("report") / "air"
    write_report(result, folder, histories=result.histories, command="tsrnn backtest air")
    return folder / "report.html"


def test_the_report_renders_with_every_image_and_no_console_error(report, tmp_path):
    checked = tmp_path / "checked.html"
    html = report.read_text(encoding="utf-8")
    checked.write_text(re.sub(r"<head>", "<head>" + CHECK, html, count=1), encoding="utf-8")
    done = chromium("--dump-dom", checked.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    match = re.search(r'data-check="([^"]*)"', done.stdout)
    assert match, "the page never finished loading"
    check = json.loads(match.group(1).replace("&quot;", '"'))
    assert check["images"] >= 3 and check["broken"] == 0, check
    assert check["errors"] == [], check["errors"]
    assert "Leaderboard" in done.stdout and "SeasonalNaive" in done.stdout


@pytest.mark.parametrize("width, name", [(1280, "laptop"), (390, "phone")])
def test_a_screenshot_is_saved_for_each_screen(report, width, name):
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"report-{name}.png"
    shot.unlink(missing_ok=True)
    done = chromium(f"--screenshot={shot}", f"--window-size={width},2400", report.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000

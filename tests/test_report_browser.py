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

from tsrnn import (
    ETS,
    SES,
    Damped,
    Drift,
    HistoricAverage,
    Holt,
    Naive2,
    RNNForecaster,
    Theta,
    WindowAverage,
    datasets,
)
from tsrnn.evaluate.backtest import backtest
from tsrnn.models.neural import GRUForecaster, LSTMForecaster
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
  // What does not fit the page's width: a table that would scroll, a command cut off.
  var wide = Array.prototype.slice.call(document.querySelectorAll("pre, .scroll"))
    .filter(function (e) { return e.scrollWidth > e.clientWidth + 1; })
    .map(function (e) { return e.textContent.slice(0, 60); });
  if (document.documentElement.scrollWidth > window.innerWidth + 1) { wide.push("the page"); }
  document.documentElement.setAttribute("data-check", JSON.stringify(
    {images: images.length, broken: broken.length, errors: __errors, wide: wide}));
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


def checked(report: Path, tmp_path: Path, width: int = 1100) -> tuple[dict, str]:
    """The page as Chromium loaded it at ``width`` pixels: the CHECK script's findings and
    the DOM."""
    page = tmp_path / "checked.html"
    html = report.read_text(encoding="utf-8")
    page.write_text(re.sub(r"<head>", "<head>" + CHECK, html, count=1), encoding="utf-8")
    done = chromium("--dump-dom", f"--window-size={width},1500", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    match = re.search(r'data-check="([^"]*)"', done.stdout)
    assert match, "the page never finished loading"
    return json.loads(match.group(1).replace("&quot;", '"')), done.stdout


def test_the_report_renders_with_every_image_and_no_console_error(report, tmp_path):
    check, dom = checked(report, tmp_path)
    assert check["images"] >= 3 and check["broken"] == 0, check
    assert check["errors"] == [], check["errors"]
    assert "Leaderboard" in dom and "SeasonalNaive" in dom


def test_many_models_and_a_long_command_fit_the_page(tmp_path):
    """Fifteen models and a command longer than the page: every table and the whole command are
    on the page, none scrolls or is cut (the horizon table once had a column per model)."""
    air = datasets.load("air_passengers")
    tiny = {"horizon": 12, "hidden_size": 8, "num_layers": 1, "max_steps": 4}
    models = [
        Naive(),
        SeasonalNaive(),
        Naive2(),
        Drift(),
        HistoricAverage(),
        WindowAverage(),
        SES(),
        Holt(),
        Damped(),
        Theta(),
        ETS(),
        LSTMForecaster(**tiny),
        GRUForecaster(**tiny),
        RNNForecaster(**tiny),
    ]
    result = backtest(models, air, horizon=12, n_windows=2)
    command = "tsrnn backtest air_passengers.csv " + " ".join(
        f"--option-{k} value-{k}" for k in range(30)
    )
    folder = write_report(result, tmp_path / "many", command=command)
    check, dom = checked(folder / "report.html", tmp_path)
    assert check["wide"] == [], check["wide"]
    assert "--option-29 value-29" in dom


@pytest.mark.parametrize("width, name", [(1280, "laptop"), (390, "phone")])
def test_a_screenshot_is_saved_for_each_screen(report, width, name):
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"report-{name}.png"
    shot.unlink(missing_ok=True)
    done = chromium(f"--screenshot={shot}", f"--window-size={width},2400", report.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000

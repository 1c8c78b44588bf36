"""The backtest report: the files it writes, their self-containment, numbers and atomicity."""

import base64
import hashlib
import json
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

import tsrnn
from tsrnn.evaluate.backtest import backtest
from tsrnn.models.stats.naive import Naive, SeasonalNaive
from tsrnn.report import plots
from tsrnn.report.backtest_report import (
    FILES,
    default_reference,
    format_number,
    headline,
    verdict,
    write_report,
)

PNG = b"\x89PNG\r\n\x1a\n"
METRICS = ["mae", "rmse", "smape", "mape", "mase"]


@pytest.fixture(scope="module")
def result(air):
    return backtest([Naive(), SeasonalNaive()], air, horizon=12, n_windows=3)


@pytest.fixture(scope="module")
def neural(air):
    from tsrnn.models.neural import LSTMForecaster

    lstm = LSTMForecaster(horizon=12, hidden_size=8, num_layers=1, max_steps=6, val_every=3)
    result = backtest(
        [Naive(), SeasonalNaive(), lstm], air, horizon=12, n_windows=3, quantiles=[0.1, 0.9]
    )
    return result, lstm.fit(air).history_


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


class _Tables(HTMLParser):
    """Every <table> of an HTML page as lists of cell texts, and every tag's attributes."""

    def __init__(self):
        super().__init__()
        self.tables, self.tags, self._cell = [], [], None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append(self._cell)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _md_table(markdown, section, first_header):
    """Rows (cells, bold markers removed) of the table of ``section`` whose header starts so."""
    text = markdown.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in text.splitlines() if line.startswith("|")]
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = []
    for line in lines[start:]:
        if set(line) <= set("|-: "):
            continue
        rows.append([c.strip().strip("*") for c in line.strip("|").split(" | ")])
    return rows


def test_report_folder_holds_exactly_the_report_files(result, tmp_path):
    out = write_report(result, tmp_path / "report")
    assert out == tmp_path / "report"
    plots_written = ["distribution.png", "forecast-1.png", "horizon.png"]
    assert _files(out) == sorted([*FILES, *(f"plots/{p}" for p in plots_written)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no temporary left over
    forecasts = pd.read_csv(out / "forecasts.csv")
    assert list(forecasts.columns) == list(result.forecasts.columns)
    assert len(forecasts) == len(result.forecasts)


def test_manifest_records_what_produced_the_report(result, air, tmp_path):
    data = tmp_path / "air.csv"
    air.to_csv(data, index=False)
    out = write_report(
        result, tmp_path / "r", data_path=data, command="tsrnn backtest air.csv", seed=7
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["input"]["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert manifest["command"] == "tsrnn backtest air.csv"
    assert manifest["seed"] == 7
    assert manifest["config"]["horizon"] == 12 and manifest["config"]["freq"] == "MS"
    assert {"tsrnn", "torch", "statsmodels", "numpy", "pandas", "python"} <= set(
        manifest["versions"]
    )
    assert {"platform", "processor", "cpu_count"} <= set(manifest["machine"])
    assert [t["model"] for t in manifest["timings"]] == ["Naive", "SeasonalNaive"]
    assert [t["threads"] for t in manifest["timings"]] == [None, None]  # no network
    assert manifest["metric"] == "mase" and manifest["reference"] == "SeasonalNaive"
    assert manifest["created"].endswith("+00:00")


def test_html_is_one_self_contained_file_with_png_plots(result, tmp_path):
    out = write_report(result, tmp_path / "r", command='run <img src="http://x.png">')
    page = (out / "report.html").read_text()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "url(" not in page and "@import" not in page  # no resource from the CSS
    parser = _Tables()
    parser.feed(page)
    for _, attrs in parser.tags:
        for key in ("src", "href"):
            if key in attrs:
                assert attrs[key].startswith(("#", "data:")), attrs[key]  # command escaped
    images = [attrs for tag, attrs in parser.tags if tag == "img"]
    assert len(images) == len(list((out / "plots").iterdir())) == 3
    for attrs in images:
        assert attrs["alt"]
        head, data = attrs["src"].split(",", 1)
        assert head == "data:image/png;base64"
        assert base64.b64decode(data).startswith(PNG)
    # The Markdown shows the same plots, as files next to it.
    markdown = (out / "report.md").read_text()
    linked = re.findall(r"!\[[^\]]+\]\((plots/[^)]+)\)", markdown)
    assert len(linked) == 3
    assert all((out / link).read_bytes().startswith(PNG) for link in linked)


def test_numbers_shown_equal_metrics_csv(result, tmp_path):
    out = write_report(result, tmp_path / "r")
    scores = pd.read_csv(out / "metrics.csv")
    k = len(METRICS) + 1
    assert list(scores.columns[:k]) == ["model", *METRICS]
    expected = {
        r.model: [format_number(getattr(r, m)) for m in METRICS] for r in scores.itertuples()
    }
    markdown = (out / "report.md").read_text()
    parser = _Tables()
    parser.feed((out / "report.html").read_text())
    html_metrics = next(t for t in parser.tables if t[0][:2] == ["model", "mae"])
    html_board = next(t for t in parser.tables if t[0][:2] == ["rank", "model"])
    md_metrics = _md_table(markdown, "Metrics", "model")
    md_board = _md_table(markdown, "Leaderboard", "rank")
    for table in (md_metrics, html_metrics):
        assert table[0][:k] == ["model", *METRICS]
        assert {row[0]: row[1:k] for row in table[1:]} == expected
    for board in (md_board, html_board):
        shown = {row[1]: row[2] for row in board[1:]}
        mase = METRICS.index("mase")
        assert shown == {model: values[mase] for model, values in expected.items()}
        assert [row[0] for row in board[1:]] == ["1", "2"]
    assert md_board[1][1] == "SeasonalNaive"  # the better model leads
    assert "**SeasonalNaive**" in markdown  # and is bold


def test_the_report_opens_with_who_won_and_by_how_much(neural, tmp_path):
    result, _ = neural
    out = write_report(result, tmp_path / "r")
    scores = pd.read_csv(out / "metrics.csv")
    sentence = headline(result, "mase")
    winner = scores.set_index("model")["mase"].idxmin()
    assert sentence.startswith(winner) and "% on mase (" in sentence
    n = result.n_windows_scored()
    assert f" over {n} series-windows; " in sentence
    if n < 10:
        assert f"too few windows for a significance test ({n}, fewer than 10)" in sentence
    else:
        assert "Diebold-Mariano p" in sentence
    assert f"{winner} took " in sentence and "(fits and forecasts)." in sentence
    first = (out / "report.md").read_text().split("## ")[1]
    assert first.splitlines()[:3] == ["Verdict", "", sentence]  # the first section
    assert sentence in (out / "report.html").read_text()


@pytest.mark.parametrize(
    "values, baselines, expected",
    [
        # a network won: against the best baseline
        ([0.4, 0.5, 0.8], ["B", "C"], "A won: mase 0.4, 20% lower than the best baseline, B"),
        # a baseline won: said so, against the best other model
        (
            [0.6, 0.5, 0.8],
            ["B", "C"],
            "B, a statistical baseline, won: mase 0.5, 17% lower than the best other model, A",
        ),
        # only baselines (or only networks): against the runner-up
        ([0.6, 0.5, 0.8], ["A", "B", "C"], "B, a statistical baseline, won: mase 0.5, 17% lower "),
        ([0.5, 0.5, 0.8], ["B", "C"], "A tied with B: mase 0.5 both."),
    ],
)
def test_verdict_names_the_winner_the_side_and_the_margin(values, baselines, expected):
    scores = pd.DataFrame({"model": ["A", "B", "C"], "mase": values})
    assert verdict(scores, "mase", baselines).startswith(expected)


def test_format_number_keeps_four_significant_digits_without_exponents():
    assert format_number(0.000123456) == "0.0001235"
    assert format_number(123456.7) == "123500"
    assert format_number(float("nan")) == "—"


def test_default_reference_is_the_best_baseline():
    scores = pd.DataFrame(
        {"model": ["LSTM", "Naive", "SeasonalNaive", "GRU"], "mase": [0.5, 2.0, 1.0, 0.4]}
    )
    assert default_reference(scores, "mase", ["Naive", "SeasonalNaive"]) == "SeasonalNaive"
    assert default_reference(scores, "mase", []) is None


def test_the_registry_not_the_name_says_which_model_is_a_baseline(air, tmp_path):
    """A baseline given any name is still the reference; a network named like a baseline is
    not. The manifest records every model's class and parameters."""
    from tsrnn.models.neural import LSTMForecaster

    lstm = LSTMForecaster(horizon=12, hidden_size=8, num_layers=1, max_steps=4, val_size=0)
    models = {"Seasonal": SeasonalNaive(), "Naive": lstm, "Last": Naive()}
    result = backtest(models, air, horizon=12, n_windows=2)
    assert result.baselines == ["Seasonal", "Last"]
    out = write_report(result, tmp_path / "r")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["reference"] == "Seasonal"
    info = manifest["model_params"]
    assert info["Naive"]["class"] == "LSTMForecaster" and info["Naive"]["baseline"] is False
    assert info["Naive"]["params"]["hidden_size"] == 8
    assert info["Naive"]["params"]["quantiles"] == [0.1, 0.5, 0.9]
    assert info["Seasonal"] == {
        "class": "SeasonalNaive",
        "baseline": True,
        "params": {"season": None},
    }
    assert "callback" not in info["Naive"]["params"]


def test_neural_report_has_intervals_and_training_curves(neural, tmp_path):
    result, history = neural
    out = write_report(result, tmp_path / "r", histories={"LSTM": history})
    assert (out / "plots" / "training-1.png").read_bytes().startswith(PNG)
    markdown = (out / "report.md").read_text()
    assert "## Training curves" in markdown and "80% interval" in markdown
    manifest = json.loads((out / "manifest.json").read_text())
    # The reference is the best baseline, never the neural model.
    scores = result.metrics(["mase"]).set_index("model")["mase"]
    best_baseline = scores[["Naive", "SeasonalNaive"]].idxmin()
    assert manifest["reference"] == best_baseline
    training = _md_table(markdown, "Training curves", "model")
    assert training[1][:2] == ["LSTM", str(int(history["step"].iloc[-1]))]


def test_a_failure_midway_leaves_the_previous_report_and_no_temporary(
    result, tmp_path, monkeypatch
):
    target = tmp_path / "report"
    write_report(result, target, title="first")
    before = {p: p.read_bytes() for p in target.rglob("*") if p.is_file()}

    def broken(*args, **kwargs):
        raise RuntimeError("plot failed")

    monkeypatch.setattr(plots, "plot_horizon_errors", broken)
    with pytest.raises(RuntimeError, match="plot failed"):
        write_report(result, target, title="second")
    with pytest.raises(RuntimeError, match="plot failed"):
        write_report(result, tmp_path / "fresh")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no partial, no temp
    assert {p: p.read_bytes() for p in target.rglob("*") if p.is_file()} == before

    monkeypatch.undo()
    write_report(result, target, title="second")  # a later run replaces it whole
    assert (target / "report.md").read_text().startswith("# second")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_refuses_to_replace_a_folder_that_is_not_a_report(result, tmp_path):
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "thesis.txt").write_text("precious")
    with pytest.raises(FileExistsError, match="not a tsrnn report"):
        write_report(result, folder)
    assert _files(folder) == ["thesis.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["documents"]


def test_a_report_written_from_python_records_the_call_the_seed_and_the_datas_hash(tmp_path):
    from tsrnn import LSTMForecaster, datasets, write_report

    air = datasets.load("air_passengers")
    models = {
        "SN": SeasonalNaive(),
        "LSTM": LSTMForecaster(horizon=12, max_steps=3, hidden_size=8, random_state=7),
    }
    # a progress hook (the CLI sets one) is no setting: neither the call nor the parameters
    # show it, and the model keeps it
    seen = []
    models["LSTM"].set_params(callback=seen.append)
    result = backtest(models, air, 12, n_windows=2, level=[80])
    assert seen and models["LSTM"].callback == seen.append
    manifest = json.loads((write_report(result, tmp_path / "r") / "manifest.json").read_text())
    assert manifest["command"] == (
        "tsrnn.backtest({'SN': SeasonalNaive(), 'LSTM': LSTMForecaster(hidden_size=8, "
        "horizon=12, max_steps=3, random_state=7)}, data, horizon=12, n_windows=2, step=12, "
        "level=[80.0])"
    )
    assert manifest["seed"] == 7
    digest = manifest["input"]["data_sha256"]
    assert len(digest) == 64 and digest == tsrnn.as_panel(air).sha256()
    assert digest != tsrnn.as_panel(air.assign(y=air.y + 1)).sha256()
    lstm = manifest["model_params"]["LSTM"]
    assert lstm["class"] == "LSTMForecaster" and lstm["params"]["hidden_size"] == 8
    assert set(lstm["params"]) == set(models["LSTM"].get_params()) - {"callback"}
    assert "tsrnn.backtest({'SN'" in (tmp_path / "r" / "report.md").read_text()


def test_mape_says_how_many_steps_it_leaves_out_where_the_actual_is_0(tmp_path):
    from tsrnn import SeasonalNaive, backtest

    rng = np.random.default_rng(0)
    counts = pd.DataFrame(
        {
            "unique_id": "shop",
            "ds": pd.date_range("2024-01-01", periods=120, freq="D"),
            "y": rng.poisson(2.0, 120).astype(float),
        }
    )
    result = backtest(SeasonalNaive(), counts, horizon=7, n_windows=2)
    scores = result.metrics(["mape", "mae"])
    actual = result.forecasts.y
    assert scores.n_zero_actuals.iloc[0] == int((actual == 0).sum()) > 0
    kept = actual != 0
    f = result.forecasts[kept]
    expected = (100 * (f.SeasonalNaive - f.y).abs() / f.y).groupby(f.window).mean().mean()
    assert scores.mape.iloc[0] == pytest.approx(expected)
    zeros = int((actual == 0).sum())
    out = write_report(result, tmp_path / "r")
    assert (
        f"MAPE is undefined where the actual is 0: {zeros} steps of each model"
        in (out / "report.md").read_text()
    )


def test_the_headline_tests_the_winner_against_its_rival_when_windows_allow():
    from tsrnn import Naive, SeasonalNaive, backtest

    rng = np.random.default_rng(1)
    hours = pd.date_range("2024-01-01", periods=24 * 20, freq="h")
    day = 10 * np.sin(2 * np.pi * np.arange(len(hours)) / 24)
    frames = [
        pd.DataFrame(
            {"unique_id": f"s{i}", "ds": hours, "y": 50 + day + rng.normal(0, 1, len(hours))}
        )
        for i in range(6)
    ]
    result = backtest([Naive(), SeasonalNaive()], pd.concat(frames), horizon=24, n_windows=2)
    sentence = headline(result)
    assert sentence.startswith("SeasonalNaive, a statistical baseline, beat Naive by ")
    assert " over 12 series-windows; significant (one-sided Diebold-Mariano p < 0.001)" in sentence
    assert sentence.endswith("(fits and forecasts).")


def test_the_plots_emphasize_the_leader_the_reference_and_the_best_network(neural, tmp_path):
    from tsrnn.report.backtest_report import _roles

    result, _ = neural
    board = result.leaderboard("mase")
    order = list(board.model)
    roles = _roles(result, order, "Naive")
    assert roles[order[0]] == "best"
    assert roles.get("Naive") == "reference" or order[0] == "Naive"
    assert "LSTM" in roles  # the only network: the best one, or the leader itself
    styles = plots.styles(order, roles)
    strong = {plots.ROLES[r][0] for r in roles.values()}
    assert {styles[m]["color"] for m in roles} == strong
    # a palette while the others are few, grey past it; the leader drawn thickest
    many = [f"m{k}" for k in range(12)]
    few_styles = plots.styles(many[:5], {"m0": "best"})
    assert len({few_styles[m]["color"] for m in many[1:5]}) == 4
    assert {s["color"] for m, s in plots.styles(many, {"m0": "best"}).items() if m != "m0"} == {
        "#9a9a9a"
    }
    assert few_styles["m0"]["linewidth"] > few_styles["m1"]["linewidth"]
    text = (write_report(result, tmp_path / "r", reference="Naive") / "report.md").read_text()
    forecasts = text.split("## Forecasts")[1]
    leader = order[0]
    assert forecasts.lstrip().startswith(f"{leader}, the leader, on the only series with its 80%")
    others = [m for m in roles if m != leader]
    for model in others:
        assert model in forecasts.split("\n\n")[1]


def test_error_axes_turn_logarithmic_when_the_models_differ_by_orders_of_magnitude():
    # M4 Hourly's Naive has MASE 11.6 where ARIMA has 0.88: a linear axis flattens the good ones
    assert plots._log_if_wide(np.array([0.4, 0.9, 1.2, 11.6, 40.0])) == ", log scale"
    assert plots._log_if_wide(np.array([0.4, 0.9, 1.2, 2.0])) == ""
    assert plots._log_if_wide(np.array([-1.0, 50.0])) == ""  # bias: no log of a negative

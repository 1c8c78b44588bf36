import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tsrnn_cli.app import app
from typer.testing import CliRunner

import tsrnn

runner = CliRunner()


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"tsrnn {tsrnn.__version__}"


def test_datasets_lists_bundled_names():
    result = runner.invoke(app, ["datasets"])
    assert result.exit_code == 0
    assert "air_passengers" in result.stdout and "beijing_pm25" in result.stdout


def test_info_on_a_bundled_name_writes_the_report(tmp_path):
    target = tmp_path / "sub" / "data_report.md"
    result = runner.invoke(app, ["info", "air_passengers", "--report", str(target)])
    assert result.exit_code == 0, result.output
    assert "MS" in result.stdout and "144" in result.stdout
    assert target.read_text() in result.stdout
    assert [p.name for p in target.parent.iterdir()] == ["data_report.md"]  # no temp file left


def test_info_json(tmp_path):
    csv = tmp_path / "one.csv"
    csv.write_text("ds,y\n2024-01-01,1\n2024-01-02,2\n2024-01-04,4\n")
    result = runner.invoke(app, ["info", str(csv), "--json"])
    assert result.exit_code == 0, result.output
    assert '"gaps_inserted": 1' in result.stdout


def test_missing_file_is_one_line_and_exit_2(tmp_path):
    result = runner.invoke(app, ["info", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "nope.csv" in lines[0] and "Traceback" not in result.output


def test_bad_input_exit_2_without_traceback_and_with_it_when_verbose(tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("ds,y\n2024-01-01,1\n2024-01-02,oops\n2024-01-03,3\n")
    result = runner.invoke(app, ["info", str(csv)])
    assert result.exit_code == 2
    assert "bad.csv" in result.stderr and "oops" in result.stderr
    assert "Traceback" not in result.output
    verbose = runner.invoke(app, ["--verbose", "info", str(csv)])
    assert verbose.exit_code == 2  # --verbose adds the traceback, never changes the status
    assert "Traceback" in verbose.stderr and "tsrnn.errors.DataError" in verbose.stderr
    assert verbose.stderr.strip().splitlines()[-1] == result.stderr.strip()


def test_installed_console_script_runs(tmp_path):
    exe = shutil.which("tsrnn", path=str(Path(sys.executable).parent))
    assert exe, "the tsrnn console script is not installed next to this Python"
    done = subprocess.run(
        [exe, "info", "air_passengers"], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "144" in done.stdout
    bad = subprocess.run(
        [exe, "info", "missing.csv"], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


# ---------------------------------------------------------------------- fit and predict
def test_fit_then_predict_writes_a_model_and_forecasts(tmp_path):
    model = tmp_path / "air.tsrnn"
    fitted = runner.invoke(
        app, ["fit", "air_passengers", "--horizon", "6", "--max-steps", "10", "--out", str(model)]
    )
    assert fitted.exit_code == 0, fitted.output
    assert "144" in fitted.stdout  # the data report
    said = re.search(
        rf"saved {re.escape(str(model))}: LSTM, horizon 6, (\d+) steps kept", fitted.stderr
    )
    assert said and 1 <= int(said.group(1)) <= 10, fitted.stderr  # the step it kept, of 10
    assert "(max_steps)" in fitted.stderr
    out = tmp_path / "fc.csv"
    predicted = runner.invoke(
        app, ["predict", str(model), "air_passengers", "--quantiles", "0.1,0.9", "--out", str(out)]
    )
    assert predicted.exit_code == 0, predicted.output
    lines = out.read_text().splitlines()
    assert lines[0] == "unique_id,ds,LSTM,LSTM-q0.1,LSTM-q0.9" and len(lines) == 7
    assert lines[1].startswith("AirPassengers,1961-01-01,")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["air.tsrnn", "fc.csv"]


def test_fit_says_when_it_refit_on_every_window(tmp_path):
    config = tmp_path / "tsrnn.toml"
    config.write_text("[model]\nhidden_size = 8\nmax_steps = 10\nrefit = true\n")
    model = tmp_path / "air.tsrnn"
    args = ["fit", "air_passengers", "--horizon", "6", "--config", str(config)]
    fitted = runner.invoke(app, [*args, "--out", str(model)])
    assert fitted.exit_code == 0, fitted.output
    assert "LSTM, horizon 6, validated 10 steps (max_steps), validation loss " in fitted.stderr
    assert (
        "; kept the refit on all 138 windows for 10 steps (refit=True; the validation tail "
        "adds 5% more windows)" in fitted.stderr
    )


def test_fit_reads_a_toml_config_and_flags_win(tmp_path):
    config = tmp_path / "tsrnn.toml"
    config.write_text(
        '[fit]\nmodel = "gru"\nhorizon = 4\n[model]\nhidden_size = 8\nmax_steps = 5\n'
    )
    model = tmp_path / "m.tsrnn"
    result = runner.invoke(
        app,
        [
            "fit",
            "air_passengers",
            "--config",
            str(config),
            "--horizon",
            "3",
            "--quiet",
            "--out",
            str(model),
        ],
    )
    assert result.exit_code == 0, result.output
    loaded = tsrnn.load(model)
    assert loaded.name == "GRU" and loaded.plan_.horizon == 3 and loaded.hidden_size == 8
    assert result.stdout == ""  # --quiet: no report


@pytest.mark.parametrize(
    "args, message",
    [
        (["fit", "air_passengers", "--model", "transformer"], "unknown model 'transformer'"),
        (["fit", "air_passengers", "--horizon", "500"], "no training window"),
        (["fit", "air_passengers", "--covariates", "TEMP"], "['TEMP'] are not in the data"),
        (["fit", "missing.csv"], "missing.csv: no such file"),
        (["predict", "missing.tsrnn", "air_passengers"], "missing.tsrnn: no such model file"),
    ],
)
def test_bad_fit_and_predict_input_exit_2_in_one_line(tmp_path, args, message):
    result = runner.invoke(app, [*args, "--quiet"] if args[0] == "fit" else args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_a_bad_config_names_the_file_and_the_key(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[model]\nhiden_size = 3\n")
    result = runner.invoke(app, ["fit", "air_passengers", "--config", str(config), "--quiet"])
    assert result.exit_code == 2 and "bad.toml: unknown model parameter(s) ['hiden_size']" in (
        result.stderr
    )
    config.write_text("[fit\n")
    broken = runner.invoke(app, ["fit", "air_passengers", "--config", str(config), "--quiet"])
    assert broken.exit_code == 2 and "not valid TOML" in broken.stderr


@pytest.mark.parametrize(
    "command, toml, message",
    [
        # checked against the data before any training, in fit and backtest alike
        ("fit", "[fit]\ninput_size = 0\n", "[fit] input_size = 0 must be a whole number >= 1"),
        ("backtest", "[fit]\ninput_size = 0\n", "[fit] input_size = 0 must be a whole number >= 1"),
        ("backtest", "[model]\nhidden_size = -1\n", "[model] hidden_size = -1 must be"),
        ("backtest", '[fit]\nmodel = "gru"\n', "['model'] are not used here"),
        ("fit", '[fit]\nmodels = "gru"\n', "['models'] are not used here"),
        ("backtest", "[fit]\nwindows = 2\n", "['windows'] are not used here"),
        (
            "backtest",
            '[fit]\nmodels = "snaive,naive"\n[model]\nhidden_size = 8\n',
            "'max_steps'] set network parameters, but no network is among the models",
        ),
        ("backtest", '[fit]\nmodels = "lstm"\ncovariates = "TEMP"\n', "['TEMP'] are not"),
        (
            "backtest",
            '[fit]\nmodels = "lstm"\n[ensemble]\nhow = "mean"\n',
            "but ensemble is not among the models",
        ),
        ("backtest", "[ensemble]\nweights = [1, 2]\n", "[ensemble] key(s) ['weights']"),
        ("fit", '[ensemble]\nhow = "mean"\n', "[ensemble] is for tsrnn backtest"),
        ("fit", "[fit]\njobs = 2\n", "['jobs'] are not used here"),
        ("backtest", "[fit]\njobs = 0\n", "[fit] jobs = 0 must be a whole number >= 1"),
        ("fit", "[fit]\nseason = 0\n", "[fit] season = 0 must be a whole number >= 1"),
    ],
)
def test_config_keys_are_used_or_refused_by_fit_and_backtest_alike(
    tmp_path, command, toml, message
):
    config = tmp_path / "c.toml"
    config.write_text(toml)
    args = [command, "air_passengers", "--config", str(config), "--quiet"]
    if command == "backtest":
        args += ["--report-dir", str(tmp_path / "r"), "--windows", "1", "--max-steps", "2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "r").exists() and not (tmp_path / "model.tsrnn").exists()


def test_backtest_takes_the_networks_options_from_the_config(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[fit]\nmodels = "lstm,snaive"\ninput_size = 30\nmax_steps = 3\n')
    folder = tmp_path / "r"
    args = ["backtest", "air_passengers", "--config", str(config), "--windows", "1"]
    result = runner.invoke(app, [*args, "--horizon", "6", "--report-dir", str(folder), "-q"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((folder / "manifest.json").read_text())
    lstm = manifest["model_params"]["LSTM"]["params"]
    assert (lstm["input_size"], lstm["max_steps"], lstm["horizon"]) == (30, 3, 6)
    assert manifest["model_params"]["SeasonalNaive"]["baseline"] is True
    [made] = manifest["choices"]  # what the network's one fit resolved from the data
    assert (made["model"], made["input_size"], made["steps"]) == ("LSTM", 30, 3)


def test_backtest_reads_the_covariates_the_flag_names(tmp_path, air):
    data = tmp_path / "air_x.csv"
    air.assign(x=range(len(air)), other=1.0).to_csv(data, index=False)
    folder = tmp_path / "r"
    args = ["backtest", str(data), "--models", "lstm,snaive", "--covariates", "x"]
    args += ["--max-steps", "3", "--horizon", "6", "--windows", "1"]
    result = runner.invoke(app, [*args, "--report-dir", str(folder), "-q"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["model_params"]["LSTM"]["params"]["past_covariates"] == ["x"]
    assert "--covariates x" in manifest["command"]


def _monthly_steps(path: Path) -> pd.DataFrame:
    """Two series of 96 integer steps with a cycle of 12 (as M4's files give monthly data)."""
    t = np.arange(96)
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b"], 96),
            "ds": np.tile(t + 1, 2),
            "y": np.concatenate([50 + 10 * np.sin(2 * np.pi * t / 12) + 0.1 * t] * 2)
            + np.repeat([0.0, 20.0], 96),
        }
    )
    frame.to_csv(path, index=False)
    return frame


def test_integer_steps_take_their_season_from_the_flag(tmp_path):
    data = tmp_path / "steps.csv"
    frame = _monthly_steps(data)
    info = runner.invoke(app, ["info", str(data)])
    assert "integer time steps carry no calendar" in info.stdout  # the report says to give it
    folder = tmp_path / "r"
    args = ["backtest", str(data), "--models", "lstm,snaive", "--season", "12"]
    args += ["--max-steps", "3", "--windows", "1", "--report-dir", str(folder), "-q"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["season"] == 12  # the scaled metrics' seasonal naive
    assert manifest["model_params"]["SeasonalNaive"]["params"]["season"] == 12
    assert manifest["model_params"]["LSTM"]["params"]["season"] == 12
    assert "| season | 12 (of the scaled metrics" in (folder / "report.md").read_text()
    forecasts = pd.read_csv(folder / "forecasts.csv")
    assert len(forecasts) == 2 * 12  # the horizon defaults to one season
    a = frame[frame.unique_id == "a"].set_index("ds")["y"]
    snaive = forecasts[forecasts.unique_id == "a"].set_index("ds")["SeasonalNaive"]
    assert np.allclose(snaive.to_numpy(), a.loc[snaive.index - 12].to_numpy())  # last cycle


def test_backtest_reads_a_competition_file_of_one_series_per_row(tmp_path):
    data = tmp_path / "Quarterly-train.csv"  # as M4 publishes it: V1 the id, padded rows
    rows = [
        f"Q{i},{','.join(str(10 + i + (t % 4) + 0.1 * t) for t in range(24 + 4 * i))}"
        for i in range(3)
    ]
    width = max(r.count(",") for r in rows)
    header = ",".join(f'"V{k}"' for k in range(1, width + 2))
    data.write_text("\n".join([header] + [r + "," * (width - r.count(",")) for r in rows]) + "\n")
    folder = tmp_path / "r"
    args = ["backtest", str(data), "--models", "snaive,naive", "--season", "4", "--windows", "1"]
    result = runner.invoke(app, [*args, "--report-dir", str(folder)])
    assert result.exit_code == 0, result.output
    info = runner.invoke(app, ["info", str(data)])
    assert "| layout | rows: one series per row, id `V1`" in info.stdout
    assert "| layout | rows |" in (folder / "report.md").read_text()  # the report's data table
    forecasts = pd.read_csv(folder / "forecasts.csv")
    assert sorted(forecasts.groupby("unique_id").ds.min()) == [21, 25, 29]  # its last season
    metrics = pd.read_csv(folder / "metrics.csv").set_index("model")
    # a cycle of 4 on a trend: the seasonal naive misses by a season's trend, as in-sample
    assert metrics.loc["SeasonalNaive", "mase"] == pytest.approx(1.0)
    assert metrics.loc["Naive", "mase"] > 1.5


def test_fit_keeps_the_season_the_flag_gives(tmp_path):
    data = tmp_path / "steps.csv"
    _monthly_steps(data)
    model = tmp_path / "m.tsrnn"
    args = ["fit", str(data), "--season", "12", "--max-steps", "3", "--hidden-size", "8"]
    result = runner.invoke(app, [*args, "--quiet", "--out", str(model)])
    assert result.exit_code == 0, result.output
    loaded = tsrnn.load(model)
    assert loaded.season == 12 and loaded.plan_.horizon == 12


def test_backtest_runs_the_ensemble_the_config_names(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(
        '[fit]\nmodels = "ensemble,snaive"\nmax_steps = 3\n'
        '[ensemble]\nmodels = ["lstm", "snaive", "naive2"]\nhow = "mean"\n'
    )
    folder = tmp_path / "r"
    args = ["backtest", "air_passengers", "--config", str(config), "--windows", "1"]
    result = runner.invoke(app, [*args, "--horizon", "6", "--report-dir", str(folder), "-q"])
    assert result.exit_code == 0, result.output
    forecasts = pd.read_csv(folder / "forecasts.csv")
    members = {"LSTM", "SeasonalNaive", "Naive2"}
    assert "Ensemble" in set(forecasts.columns) and not members & set(forecasts.columns) - {
        "SeasonalNaive"
    }
    manifest = json.loads((folder / "manifest.json").read_text())
    ensemble = manifest["model_params"]["Ensemble"]
    assert ensemble["baseline"] is False and ensemble["params"]["how"] == "mean"
    lstm = ensemble["params"]["models"][0]["__model__"]
    assert lstm["class"] == "LSTMForecaster" and lstm["params"]["max_steps"] == 3
    bad = tmp_path / "bad.toml"
    bad.write_text('[fit]\nmodels = "ensemble"\n[ensemble]\nmodels = ["lstm"]\n')
    refused = runner.invoke(app, ["backtest", "air_passengers", "--config", str(bad), "-q"])
    assert refused.exit_code == 2 and "at least two model names" in refused.stderr


def test_predicting_past_the_trained_horizon_is_a_usage_error(tmp_path):
    model = tmp_path / "m.tsrnn"
    runner.invoke(
        app,
        [
            "fit",
            "air_passengers",
            "--horizon",
            "3",
            "--max-steps",
            "3",
            "--quiet",
            "--out",
            str(model),
        ],
    )
    result = runner.invoke(app, ["predict", str(model), "air_passengers", "--horizon", "9"])
    assert result.exit_code == 2 and "at most --horizon 3 steps" in result.stderr


def test_installed_fit_and_predict_run_as_subprocesses(tmp_path):
    exe = shutil.which("tsrnn", path=str(Path(sys.executable).parent))
    assert exe
    fit = subprocess.run(
        [exe, "fit", "air_passengers", "--horizon", "4", "--max-steps", "5", "--quiet"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert fit.returncode == 0, fit.stderr
    assert (tmp_path / "model.tsrnn").exists()
    predict = subprocess.run(
        [exe, "predict", "model.tsrnn", "air_passengers"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert predict.returncode == 0, predict.stderr
    assert predict.stdout.splitlines()[0] == "unique_id,ds,LSTM" and predict.stdout.count("\n") == 5


# ---------------------------------------------------------------------- backtest
def test_backtest_writes_the_report_and_prints_the_leaderboard(tmp_path):
    folder = tmp_path / "air"
    result = runner.invoke(
        app,
        [
            "backtest",
            "air_passengers",
            "--models",
            "snaive,naive2,naive",
            "--horizon",
            "12",
            "--windows",
            "2",
            "--report-dir",
            str(folder),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert {"report.html", "report.md", "metrics.csv", "forecasts.csv", "manifest.json"} <= {
        p.name for p in folder.iterdir()
    }
    import pandas as pd

    metrics = pd.read_csv(folder / "metrics.csv")
    best = metrics.loc[metrics.mase.idxmin(), "model"]
    assert result.stdout.splitlines()[1].split()[:2] == ["1", best]  # the printed leaderboard
    assert f"{best}, a statistical baseline, beat " in result.stdout  # and who won
    assert " on mase (" in result.stdout
    manifest = (folder / "manifest.json").read_text()
    assert "tsrnn backtest air_passengers" in manifest


@pytest.mark.parametrize(
    "args, message",
    [
        (["--models", "snaive,prophet"], "unknown model 'prophet'"),
        (["--models", ","], "--models is empty"),
        (["--config", "missing.toml"], "missing.toml: no such config file"),
        (["--models", "lstm", "--covariates", "TEMP"], "['TEMP'] are not in the data"),
        (["--models", "snaive", "--covariates", "x"], "but no network is among the models"),
        (["--season", "0"], "--season 0: must be a whole number"),
    ],
)
def test_bad_backtest_input_exits_2_and_writes_nothing(tmp_path, args, message):
    folder = tmp_path / "out"
    result = runner.invoke(
        app, ["backtest", "air_passengers", "--report-dir", str(folder), "--quiet", *args]
    )
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert not folder.exists()


def test_installed_backtest_runs_as_a_subprocess(tmp_path):
    exe = shutil.which("tsrnn", path=str(Path(sys.executable).parent))
    done = subprocess.run(
        [
            exe,
            "backtest",
            "air_passengers",
            "--models",
            "snaive,naive2",
            "--horizon",
            "6",
            "--windows",
            "2",
            "--report-dir",
            "out",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (
        tmp_path / "out" / "report.html"
    ).exists() and "wrote out/report.md and out/report.html" in done.stderr


def test_a_column_that_is_not_there_exits_2_naming_it(tmp_path):
    result = runner.invoke(app, ["fit", "air_passengers", "--target-col", "passengers", "--quiet"])
    assert result.exit_code == 2 and "passengers" in result.stderr, result.output
    assert result.stderr.count("\n") == 1


@pytest.mark.skipif(os.environ.get("TSRNN_SKIP_WHEEL") == "1", reason="TSRNN_SKIP_WHEEL=1")
def test_wheel_install_ships_library_cli_and_data(tmp_path):
    root = Path(__file__).resolve().parents[1]
    wheel_dir, target = tmp_path / "wheel", tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheel_dir),
            str(root),
        ],
        check=True,
        timeout=300,
        cwd=tmp_path,
    )
    wheel = next(wheel_dir.glob("tsrnn-*.whl"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    names = sorted(p.name for p in target.iterdir())
    assert "cli" not in names and "tsrnn_cli" in names  # no generic top-level `cli` module
    code = (
        "import tsrnn, tsrnn_cli, tsrnn.datasets as d; print(tsrnn.__file__); "
        "print(len(d.load('beijing_pm25')), len(d.load('air_passengers')))"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    where, sizes = done.stdout.splitlines()
    assert where.startswith(str(target)), "imported the source tree, not the wheel"
    assert sizes == "420768 144"
    script = subprocess.run(
        [str(target / "bin" / "tsrnn"), "datasets"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert script.returncode == 0 and "beijing_pm25" in script.stdout


def test_backtest_ranks_by_the_metric_asked_for(tmp_path):
    folder = tmp_path / "air"
    args = ["backtest", "air_passengers", "--models", "snaive,naive", "--horizon", "12"]
    args += ["--windows", "2", "--report-dir", str(folder), "--quiet", "--metric", "mape"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[0].split()
    assert header[:3] == ["rank", "model", "mape"]
    assert " on mape (" in result.stdout
    assert json.loads((folder / "manifest.json").read_text())["metric"] == "mape"
    assert "| rank | model | mape |" in (folder / "report.md").read_text()
    bad = runner.invoke(app, [*args[:-1], "bias"])
    assert bad.exit_code == 2
    assert "--metric bias: choose one of mae, mse, rmse, mape, smape, mase, rmsse" in bad.output


def test_the_options_users_reach_for_are_flags(tmp_path):
    out = tmp_path / "m.tsrnn"
    args = ["fit", "air_passengers", "--horizon", "6", "--max-steps", "4", "--hidden-size", "8"]
    args += ["--loss", "mse", "--seed", "3", "--input-size", "24", "--out", str(out), "--quiet"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    params = tsrnn.load(out).get_params()
    assert (params["hidden_size"], params["loss"], params["random_state"]) == (8, "mse", 3)
    assert (params["input_size"], params["max_steps"]) == (24, 4)
    folder = tmp_path / "bt"
    args = ["backtest", "air_passengers", "--models", "lstm,snaive", "--horizon", "6"]
    args += ["--windows", "1", "--max-steps", "3", "--hidden-size", "8", "--seed", "5"]
    args += ["--input-size", "12", "--report-dir", str(folder), "--quiet"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["seed"] == 5
    lstm = manifest["model_params"]["LSTM"]["params"]
    assert (lstm["hidden_size"], lstm["random_state"], lstm["input_size"]) == (8, 5, 12)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--loss", "bogus"], "--loss"),
        (["--seed", "-1"], "--seed -1: must be a whole number >= 0"),
        (["--hidden-size", "0"], "--hidden-size 0: must be a whole number >= 1"),
    ],
)
def test_bad_network_flags_are_refused_in_one_line(extra, message):
    args = ["fit", "air_passengers", "--horizon", "6", "--max-steps", "2", *extra]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_network_flags_without_a_network_are_refused(tmp_path):
    args = ["backtest", "air_passengers", "--models", "snaive", "--horizon", "6", "--seed", "1"]
    result = runner.invoke(app, [*args, "--report-dir", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "['seed'] set network parameters, but no network is among the models" in result.output


def test_backtest_progress_names_model_window_and_the_whole(tmp_path, monkeypatch):
    from tsrnn_cli import app as cli

    monkeypatch.setattr(cli._Reporter, "EVERY", 0.0)  # a line at every event: testable
    args = ["backtest", "air_passengers", "--models", "lstm,snaive", "--horizon", "12"]
    args += ["--windows", "2", "--max-steps", "60", "--report-dir", str(tmp_path / "r")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert "LSTM window 1/2: fitting; backtest 0/4 fits" in lines  # no estimate yet
    # the estimate: the rest of this model's fits at its own pace; the others counted
    assert any(
        line.startswith("LSTM window 1/2: step ") and " more, then 1 other model" in line
        for line in lines
    )
    assert "LSTM window 2/2: fitting; backtest 1/4 fits" in " ".join(lines)
    wanted = "SeasonalNaive window 2/2: fitting; backtest 3/4 fits; SeasonalNaive about "
    assert any(line.startswith(wanted) and line.endswith(" s more") for line in lines)
    assert lines[-1] == f"wrote {tmp_path / 'r'}/report.md and {tmp_path / 'r'}/report.html"
    header = result.stdout.splitlines()[0]
    assert header.split()[:4] == ["rank", "model", "mase", "skill"] and "DM p-value" in header
    quiet = runner.invoke(app, [*args[:-1], str(tmp_path / "q"), "--quiet"])
    assert quiet.exit_code == 0 and "fits)" not in quiet.stderr


def test_the_library_reports_each_fit_of_a_backtest():
    from tsrnn import Naive, SeasonalNaive, backtest, datasets

    events = []
    air = datasets.load("air_passengers")
    backtest([Naive(), SeasonalNaive()], air, 12, n_windows=3, refit=2, progress=events.append)
    seen = [(e.model, e.window, e.done, e.n_fits, e.phase, e.fit, e.fits) for e in events]
    assert seen == [
        ("Naive", 1, 0, 4, "fit", 1, 2),
        ("Naive", 1, 1, 4, "done", 1, 2),
        ("Naive", 3, 1, 4, "fit", 2, 2),
        ("Naive", 3, 2, 4, "done", 2, 2),
        ("SeasonalNaive", 1, 2, 4, "fit", 1, 2),
        ("SeasonalNaive", 1, 3, 4, "done", 1, 2),
        ("SeasonalNaive", 3, 3, 4, "fit", 2, 2),
        ("SeasonalNaive", 3, 4, 4, "done", 2, 2),
    ]


def test_fit_progress_in_a_log_says_the_step_and_the_time_left(tmp_path, monkeypatch):
    from tsrnn_cli import app as cli

    monkeypatch.setattr(cli._Reporter, "EVERY", 0.0)
    args = ["fit", "air_passengers", "--horizon", "6", "--max-steps", "40", "--seed", "0"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "m.tsrnn")])
    assert result.exit_code == 0, result.output
    steps = [line for line in result.stderr.splitlines() if line.startswith("LSTM: step ")]
    assert steps and all("/40 loss " in line for line in steps)
    assert any(line.endswith(" left") and "; about " in line for line in steps)


def test_the_time_left_during_a_refit_counts_the_first_runs_pace(monkeypatch):
    from tsrnn_cli import app as cli

    from tsrnn.models.neural.training import Progress

    clock = [0.0]
    monkeypatch.setattr(cli.time, "monotonic", lambda: clock[0])
    reporter = cli._Reporter("off")  # one fit (tsrnn fit): the rest of it at its pace so far

    def at(seconds, step, max_steps, phase="fit"):
        clock[0] = seconds
        reporter.train(Progress(step, max_steps, 1.0, None, None, 1e-3, 1.0, seconds, phase))
        return reporter._left()

    assert at(50.0, 500, 1000) == "about 50 s left"  # 10 steps a second
    at(100.0, 1000, 1000)  # early stopping kept step 500: a refit of 500 steps follows
    # 1,150 steps in 115 s, 350 to go: 35 s (the refit's share alone said 4 min)
    assert at(115.0, 150, 500, phase="refit") == "about 35 s left"


def test_the_new_flags_are_fit_keys_of_a_config_too(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[fit]\nseed = 2\nloss = "mse"\nhidden_size = 8\nmax_steps = 3\n')
    out = tmp_path / "m.tsrnn"
    args = ["fit", "air_passengers", "--horizon", "6", "--config", str(config)]
    result = runner.invoke(app, [*args, "--out", str(out), "--quiet", "--seed", "4"])
    assert result.exit_code == 0, result.output
    params = tsrnn.load(out).get_params()
    assert (params["random_state"], params["loss"], params["hidden_size"]) == (4, "mse", 8)
    config.write_text("[fit]\nseed = -1\n")
    bad = runner.invoke(app, [*args, "--out", str(out)])
    assert bad.exit_code == 2 and "[fit] seed = -1 must be a whole number >= 0" in bad.output


def test_jobs_set_the_per_series_workers_from_flag_config_or_the_cores(tmp_path):
    from tsrnn.machine import available_cores

    def run(*extra, config=None):
        folder = tmp_path / f"r{len(list(tmp_path.iterdir()))}"
        args = ["backtest", "air_passengers", "--models", "ensemble,snaive,ets", "--windows", "2"]
        args += ["--horizon", "12", "--max-steps", "3", "--report-dir", str(folder), *extra]
        if config:
            (tmp_path / "c.toml").write_text(config)
            args += ["--config", str(tmp_path / "c.toml")]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        manifest = json.loads((folder / "manifest.json").read_text())["model_params"]
        members = manifest["Ensemble"]["params"]["models"]
        return result, manifest["ETS"]["params"]["n_jobs"], members, folder

    result, jobs, members, default = run()
    assert jobs == available_cores()  # one process per core, each on one thread
    assert f"{available_cores()} worker process(es) for Ensemble, ETS" in result.stderr
    assert "warning" not in result.stderr
    result, jobs, members, one = run("--jobs", "1", "--quiet")
    n_jobs = [m["__model__"]["params"].get("n_jobs") for m in members]
    assert jobs == 1 and n_jobs == [None, 1, 1]  # the ensemble's ETS and Theta too
    _, jobs, _, _ = run("--quiet", config='[fit]\njobs = 3\nmodels = "ensemble,snaive,ets"\n')
    assert jobs == 3
    # the workers change the time, never the numbers
    forecasts = [pd.read_csv(f / "forecasts.csv") for f in (default, one)]
    pd.testing.assert_frame_equal(forecasts[0], forecasts[1])
    many = str(available_cores() + 1)
    result, jobs, _, _ = run("--jobs", many, "--quiet")
    assert jobs == int(many)
    assert f"warning: --jobs {many} on {available_cores()} core(s)" in result.stderr

"""The CLI's promise under misuse: bad input is one line and exit 2, checked before any work;
Ctrl-C is exit 130 and leaves every output as it was; nothing of the user's is overwritten."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tsrnn_cli.app import _flags, app, in_cli_words
from typer.testing import CliRunner

import tsrnn
from tsrnn import datasets

runner = CliRunner()
EXE = shutil.which("tsrnn", path=str(Path(sys.executable).parent))
NO_WAITING = "[model]\npatience = 1000000\n"  # training runs until Ctrl-C


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


# ---------------------------------------------------------------------- counts of steps
@pytest.mark.parametrize(
    "args, message",
    [
        (["fit", "air_passengers", "--horizon", "0"], "--horizon 0: must be a whole number"),
        (["fit", "air_passengers", "--horizon", "-5"], "--horizon -5: must be a whole number"),
        (["fit", "air_passengers", "--horizon", "1000000000"], "leaves no training window"),
        (["fit", "air_passengers", "--max-steps", "0"], "--max-steps 0: must be a whole number"),
        (["fit", "air_passengers", "--input-size", "0"], "--input-size 0: must be"),
        (
            ["fit", "air_passengers", "--input-size", "1000000000"],
            "--input-size 1000000000 is longer than the longest series (144 points)",
        ),
        (["backtest", "air_passengers", "--horizon", "0"], "--horizon 0: must be"),
        (["backtest", "air_passengers", "--horizon", "1000000000"], "leaves no training window"),
        (
            ["backtest", "air_passengers", "--models", "snaive", "--horizon", "1000000000"],
            "no series has 2 points before any cutoff",
        ),
        (["backtest", "air_passengers", "--windows", "0"], "--windows 0: must be"),
        (
            ["backtest", "air_passengers", "--windows", "1000000000"],
            "only the last 11 leave 2 points before their cutoff in the longest series",
        ),
        (["backtest", "air_passengers", "--step", "0"], "--step 0: must be"),
        (["backtest", "air_passengers", "--max-steps", "0"], "--max-steps 0: must be"),
    ],
)
def test_a_bad_count_is_bad_input_before_any_training_verbose_or_not(tmp_path, args, message):
    args = [*args, "--quiet"]
    args += ["--report-dir", str(tmp_path / "r")] if args[0] == "backtest" else []
    args += ["--out", str(tmp_path / "m.tsrnn")] if args[0] == "fit" else []
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in one_line(result)
    verbose = runner.invoke(app, ["--verbose", *args])
    assert verbose.exit_code == 2  # the traceback is added, the status kept
    assert "Traceback" in verbose.stderr and message in verbose.stderr.splitlines()[-1]
    assert list(tmp_path.iterdir()) == []  # no model, no report


def test_a_bad_horizon_for_predict_is_bad_input(tmp_path):
    result = runner.invoke(app, ["predict", "nothing.tsrnn", "air_passengers", "--horizon", "0"])
    assert result.exit_code == 2 and "--horizon 0" in one_line(result)


def test_predicting_without_the_fitted_covariates_names_the_file_and_columns(tmp_path, air):
    data = tmp_path / "air_x.csv"
    air.assign(x=range(len(air))).to_csv(data, index=False)
    model = tmp_path / "m.tsrnn"
    fit = ["fit", str(data), "--covariates", "x", "--horizon", "3", "--max-steps", "3"]
    assert runner.invoke(app, [*fit, "--quiet", "--out", str(model)]).exit_code == 0
    result = runner.invoke(app, ["predict", str(model), "air_passengers"])
    assert result.exit_code == 2
    line = one_line(result)
    assert line.startswith("error: air_passengers: ")
    assert "the model was fitted with covariates ['x']: give the data those columns" in line


def test_a_config_file_count_is_checked_like_a_flag(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[fit]\nhorizon = -1\n")
    result = runner.invoke(app, ["fit", "air_passengers", "--config", str(config), "--quiet"])
    assert result.exit_code == 2
    assert f"{config}: [fit] horizon = -1 must be a whole number >= 1" in one_line(result)


# ---------------------------------------------------------------------- output paths first
def test_outputs_that_are_folders_are_refused_before_the_work(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    fit = runner.invoke(app, ["fit", "air_passengers", "--out", str(folder), "--max-steps", "5"])
    assert fit.exit_code == 2 and f"{folder} is a folder" in one_line(fit)
    assert "Data report" not in fit.stdout  # refused before reading the data
    info = runner.invoke(app, ["info", "air_passengers", "--report", str(folder)])
    assert info.exit_code == 2 and f"{folder} is a folder" in one_line(info)
    assert list(folder.iterdir()) == []


@pytest.mark.skipif(sys.platform != "linux", reason="uses /proc, where no file can be created")
def test_a_folder_that_accepts_no_files_is_refused_before_the_work():
    for args in (
        ["fit", "air_passengers", "--out", "/proc/tsrnn/model.tsrnn"],
        ["info", "air_passengers", "--report", "/proc/report.md"],
        ["backtest", "air_passengers", "--models", "snaive", "--report-dir", "/proc/tsrnn"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "/proc does not accept new files" in one_line(result)


def test_a_read_only_parent_is_refused_before_the_work(tmp_path):
    parent = tmp_path / "locked"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        if os.access(parent, os.W_OK):
            pytest.skip("this user (root) may write to read-only folders")
        result = runner.invoke(
            app, ["backtest", "air_passengers", "--report-dir", str(parent / "r"), "-q"]
        )
        assert result.exit_code == 2 and "does not accept new files" in one_line(result)
    finally:
        parent.chmod(0o755)


def test_report_dir_must_be_a_report_folder_of_its_own(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.csv").write_text("mine")
    for folder in (".", str(tmp_path), str(tmp_path.parent)):
        result = runner.invoke(app, ["backtest", "air_passengers", "--report-dir", folder])
        assert result.exit_code == 2 and "the current folder or one above it" in one_line(result)
    other = tmp_path / "photos"
    other.mkdir()
    (other / "cat.jpg").write_text("mine")
    result = runner.invoke(
        app, ["backtest", "air_passengers", "--models", "lstm", "--report-dir", str(other)]
    )
    assert result.exit_code == 2 and "is not a tsrnn report (it holds cat.jpg)" in one_line(result)
    assert "backtesting" not in result.stderr  # refused before any model ran
    assert (tmp_path / "data.csv").read_text() == "mine" and (other / "cat.jpg").exists()


def test_fit_never_replaces_the_data_or_a_file_that_is_not_a_model(tmp_path):
    data = tmp_path / "air.csv"
    datasets.load("air_passengers").to_csv(data, index=False)
    before = data.read_bytes()
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    fit = ["fit", str(data), "--max-steps", "2", "-q", "--out"]
    for out, what in ((data, "the data being read"), (notes, "not a tsrnn model file")):
        result = runner.invoke(app, [*fit, str(out)])
        assert result.exit_code == 2 and f"{out} exists and is {what}" in one_line(result)
        assert "--force" in one_line(result)
    assert data.read_bytes() == before and notes.read_text() == "mine"
    model = tmp_path / "m.tsrnn"
    for _ in range(2):  # an earlier model file is replaced: that is what refitting asks
        assert runner.invoke(app, [*fit, str(model)]).exit_code == 0
    assert runner.invoke(app, [*fit, str(notes), "--force"]).exit_code == 0
    assert tsrnn.load(notes).name == "LSTM"
    predict = ["predict", str(model), str(data), "--out", str(data)]
    result = runner.invoke(app, predict)
    assert result.exit_code == 2 and "is the DATA file being read" in one_line(result)
    result = runner.invoke(app, ["info", str(data), "--report", str(data)])
    assert result.exit_code == 2 and "is the DATA file being read" in one_line(result)
    assert data.read_bytes() == before


def test_predict_and_info_replace_only_what_tsrnn_wrote_unless_force(tmp_path):
    model = tmp_path / "m.tsrnn"
    shutil.copy(Path(__file__).parent / "data" / "models" / "lstm-format2.tsrnn", model)
    notes_csv, notes_md = tmp_path / "notes.csv", tmp_path / "notes.md"
    notes_csv.write_text("mine")
    notes_md.write_text("mine")
    predict = ["predict", str(model), "air_passengers", "--horizon", "1", "--out"]
    info = ["info", "air_passengers", "--report"]
    for args, out, what in (
        (predict, notes_csv, "not forecasts tsrnn wrote"),
        (info, notes_md, "not a data report tsrnn wrote"),
    ):
        refused = runner.invoke(app, [*args, str(out)])
        assert refused.exit_code == 2 and f"{out} exists and is {what}" in one_line(refused)
        assert "--force" in one_line(refused) and out.read_text() == "mine"
    ours_csv, ours_md = tmp_path / "fc.csv", tmp_path / "r.md"
    for _ in range(2):  # what tsrnn wrote is replaced: that is what rerunning asks
        done = runner.invoke(app, [*predict, str(ours_csv)])
        assert done.exit_code == 0 and "wrote" in done.stderr and "1 row" in done.stderr
        assert runner.invoke(app, [*info, str(ours_md)]).exit_code == 0
    assert ours_csv.read_text().startswith("unique_id,ds,LSTM\nAirPassengers,1961-01-01,")
    assert runner.invoke(app, [*predict, str(notes_csv), "--force"]).exit_code == 0
    assert runner.invoke(app, [*info, str(notes_md), "--force"]).exit_code == 0
    assert notes_csv.read_text() == ours_csv.read_text()
    assert notes_md.read_text().startswith("# Data report: air_passengers")


def test_a_file_added_to_a_report_is_kept_unless_force(tmp_path):
    folder = tmp_path / "report"
    args = ["backtest", "air_passengers", "--models", "snaive", "--report-dir", str(folder), "-q"]
    assert runner.invoke(app, args).exit_code == 0
    (folder / "notes.md").write_text("my notes")
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2
    assert f"{folder / 'notes.md'} is not a file the report wrote" in one_line(refused)
    assert "--force" in refused.stderr and (folder / "notes.md").read_text() == "my notes"
    forced = runner.invoke(app, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    assert not (folder / "notes.md").exists() and (folder / "report.html").exists()
    assert runner.invoke(app, args).exit_code == 0  # a report's own files are replaceable


# ---------------------------------------------------------------------- help and pipes
def test_config_help_shows_its_tables():
    for command in ("fit", "backtest"):
        result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        assert "[fit] options and [model] parameters" in result.stdout


def test_the_installed_command_refuses_bad_files_in_one_line_with_exit_2(tmp_path):
    """The console script itself, on small real files: a daily series among hourly ones, an id
    written NA, a repeated column, a folder given for a report file."""
    hours = [f"2024-01-01 {h:02d}:00" for h in range(24)] + [
        f"2024-01-02 {h:02d}:00" for h in range(24)
    ]
    hourly = "".join(f"{sid},{t},{k}\n" for sid in "ab" for k, t in enumerate(hours))
    daily = "".join(f"d,2024-01-{k:02d},{k}\n" for k in range(1, 9))
    files = {
        "daily.csv": "unique_id,ds,y\n" + hourly + daily,
        "na.csv": "unique_id,ds,y\n" + hourly + "NA,2024-01-01 00:00,3\n",
        "twice.csv": "unique_id,ds,y,y\na,2024-01-01,1,2\na,2024-01-02,2,3\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "folder").mkdir()
    cases = [
        (["fit", "daily.csv"], "series ['d'] (1 of 3) are on a 'D' grid, the others on 'h'"),
        (["info", "na.csv"], "series id 'NA' in column 'unique_id' is a missing-value marker"),
        (["info", "twice.csv"], "column name 'y' appears twice"),
        (["info", "daily.csv", "--freq", "h", "--report", "folder"], "e.g. folder/report.md"),
    ]
    for args, message in cases:
        done = subprocess.run([EXE, *args], cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 2 and done.stdout == "", (args, done.stderr)
        assert done.stderr.count("\n") == 1 and message in done.stderr, (args, done.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "daily.csv",
        "folder",
        "na.csv",
        "twice.csv",
    ]


def test_a_closed_pipe_ends_quietly():
    """`tsrnn info ... | head -1`: the reader leaves early; exit as SIGPIPE would, silently."""
    proc = subprocess.Popen(
        [EXE, "info", "beijing_pm25"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    proc.stdout.close()  # before anything is written: the first write finds no reader
    stderr = proc.stderr.read()
    assert proc.wait(timeout=120) == 141
    assert stderr == b""


# ---------------------------------------------------------------------- Ctrl-C
def interrupt_training(
    args: list[str], cwd: Path, signum: int = signal.SIGINT
) -> subprocess.CompletedProcess:
    """Run the installed ``tsrnn -v ARGS``, press Ctrl-C (or send ``signum``) once training
    has reported a step."""
    proc = subprocess.Popen(
        [EXE, "-v", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        # a shell starts a background job (`make test &`) with Ctrl-C ignored, and children
        # inherit that: give the command the terminal's usual Ctrl-C
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if " step " in line:  # the network's training log: training is under way
            proc.send_signal(signum)
            break
    out, rest = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(args, proc.returncode, out, "".join(lines) + rest)


def test_ctrl_c_during_fit_keeps_the_existing_model_unless_asked(tmp_path):
    (tmp_path / "c.toml").write_text(NO_WAITING)
    model = tmp_path / "model.tsrnn"  # an earlier model (fit may replace a model file)
    earlier = (Path(__file__).parent / "data" / "models" / "lstm-format2.tsrnn").read_bytes()
    model.write_bytes(earlier)
    args = ["fit", "air_passengers", "--max-steps", "1000000", "--config", "c.toml", "-q"]
    done = interrupt_training(args, tmp_path)
    assert done.returncode == 130, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert "interrupted (Ctrl-C) after" in last and "model.tsrnn left as it was" in last
    assert "--keep-interrupted" in last
    assert model.read_bytes() == earlier
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml", "model.tsrnn"]

    done = interrupt_training([*args, "--keep-interrupted"], tmp_path)
    assert done.returncode == 130, done.stderr
    assert "saved the best weights so far" in done.stderr and "to model.tsrnn" in done.stderr
    kept = tsrnn.load(model)
    assert kept.stop_reason_ == "interrupted" and len(kept.predict(3)) == 3


def test_ctrl_c_during_backtest_leaves_the_previous_report(tmp_path):
    (tmp_path / "c.toml").write_text(NO_WAITING)
    report = ["--report-dir", "report"]
    first = subprocess.run(
        [EXE, "backtest", "air_passengers", "--models", "snaive", *report, "-q"],
        cwd=tmp_path,
        capture_output=True,
        timeout=300,
    )
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in (tmp_path / "report").iterdir() if p.is_file()}
    args = ["backtest", "air_passengers", "--models", "snaive,lstm", "--config", "c.toml"]
    done = interrupt_training([*args, "--max-steps", "1000000", *report], tmp_path)
    assert done.returncode == 130, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert "LSTM was interrupted after" in last and "window 1 of 3" in last
    assert "report left as it was" in last
    after = {p.name: p.read_bytes() for p in (tmp_path / "report").iterdir() if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml", "report"]  # no temp left


def test_sigterm_stops_fit_and_backtest_as_ctrl_c_does_with_exit_143(tmp_path):
    """`kill` or `timeout` (SIGTERM): outputs left as they were, the statistical models'
    worker processes stopped, exit 143."""
    (tmp_path / "c.toml").write_text(NO_WAITING)
    model = tmp_path / "model.tsrnn"
    earlier = (Path(__file__).parent / "data" / "models" / "lstm-format2.tsrnn").read_bytes()
    model.write_bytes(earlier)
    args = ["fit", "air_passengers", "--max-steps", "1000000", "--config", "c.toml", "-q"]
    done = interrupt_training(args, tmp_path, signal.SIGTERM)
    assert done.returncode == 143, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("terminated (SIGTERM) after") and "model.tsrnn left as it was" in last
    assert model.read_bytes() == earlier
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml", "model.tsrnn"]

    proc = subprocess.Popen(
        [EXE, "backtest", "beijing_pm25", "--models", "ets", "--report-dir", "r", "-q"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(8)  # reading the data, then fitting ETS in two worker processes
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert (
        err.strip().splitlines()[-1] == "terminated (SIGTERM); the report folder r left as it was"
    )
    assert not (tmp_path / "r").exists()


# ---------------------------------------------------------------------- messages that point at the problem
def test_library_words_become_the_flags_a_cli_user_types():
    flags = _flags()
    assert in_cli_words("pass time_col= (one of them)", flags) == "pass --time-col (one of them)"
    assert (
        in_cli_words("lower horizon=48 or n_windows=", flags) == "lower --horizon 48 or --windows"
    )
    assert in_cli_words("pass freq='h' to keep them", flags) == "pass --freq h to keep them"
    assert (
        in_cli_words("lower val_size=, or use head='recursive'", flags)
        == "lower [model] val_size (in --config), or use [model] head = 'recursive'"
    )
    assert in_cli_words("cell 'a=b' in column x=", flags) == "cell 'a=b' in column x="  # unknown


def crafted_pickle(path: Path, marker: Path) -> None:
    """A file whose unpickling would create ``marker``: the code a model file must never run."""
    import pickle

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path.write_bytes(pickle.dumps(Exploit(), protocol=4))


def test_the_installed_command_says_what_a_misplaced_or_odd_file_is(tmp_path):
    """Compressed or UTF-16 files are read; a model given as data, swapped arguments, a crafted
    model file, a one-row file, dates past 2262 and Python argument names each get one line
    naming the file and the fix (exit 2), with nothing of torch's or pandas' own words."""
    import gzip

    rows = "".join(f"s,2024-01-{d:02d},{d}\n" for d in range(1, 29))
    (tmp_path / "packed.csv").write_bytes(gzip.compress(("unique_id,ds,y\n" + rows).encode()))
    (tmp_path / "excel.csv").write_bytes(("unique_id,ds,y\n" + rows).encode("utf-16"))
    (tmp_path / "one.csv").write_text("unique_id,ds,y\ns,2024-01-01,3\n")
    late = [f"{2259 + (3 + k) // 12}-{(3 + k) % 12 + 1:02d}-01" for k in range(36)]
    (tmp_path / "late.csv").write_text(
        "unique_id,ds,y\n" + "".join(f"a,{t},{k % 5 + 1}\n" for k, t in enumerate(late))
    )
    (tmp_path / "when.csv").write_text("a,b,y\n2024-01-01,2024-01-01,1\n2024-01-02,2024-01-02,2\n")
    model = tmp_path / "model.tsrnn"  # an LSTM fitted on monthly data
    shutil.copy(Path(__file__).parent / "data" / "models" / "lstm-format2.tsrnn", model)
    crafted_pickle(tmp_path / "crafted.tsrnn", tmp_path / "PWNED")

    for name, shown in (("packed.csv", "utf-8, gzip-compressed"), ("excel.csv", "utf-16")):
        done = subprocess.run([EXE, "info", name], cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0 and shown in done.stdout, done.stderr
        assert "| s | 2024-01-01 | 2024-01-28 | 28 |" in done.stdout
    cases = [
        (["info", "one.csv"], "one.csv: the file has one data row (line 2)"),
        (["info", "model.tsrnn"], "model.tsrnn: a model file (tsrnn saves models with torch)"),
        (["backtest", "model.tsrnn"], "to forecast with it: tsrnn predict model.tsrnn DATA"),
        (
            ["predict", "late.csv", "model.tsrnn"],
            "late.csv is data and model.tsrnn a model file: the model comes first, "
            "tsrnn predict model.tsrnn late.csv",
        ),
        (
            ["predict", "crafted.tsrnn", "late.csv"],
            "error: crafted.tsrnn: not a tsrnn model file, or written by an unknown version; "
            "nothing in it was run",
        ),
        (
            ["predict", "model.tsrnn", "late.csv"],
            "series 'a' ends at 2262-03-01 00:00:00: 6 steps after it pass 2262-04-11, the last "
            "date pandas can hold; the last forecast date that fits is 2262-04-01",
        ),
        (["info", "when.csv"], "['a', 'b'] all qualify; pass --time-col (one of them)"),
        (
            ["predict", "model.tsrnn", "packed.csv", "--quantiles", "10,90"],
            "quantile levels are fractions between 0 and 1; for these percentiles write "
            "--quantiles 0.1,0.9",
        ),
    ]
    for args, message in cases:
        done = subprocess.run([EXE, *args], cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 2 and done.stdout == "", (args, done.stderr)
        assert done.stderr.count("\n") == 1 and message in done.stderr, (args, done.stderr)
        assert "weights_only" not in done.stderr and "Warning" not in done.stderr
    assert not (tmp_path / "PWNED").exists()
    (tmp_path / "two.csv").write_text("unique_id,ds,y\nnew,1960-01-01,100\nnew,1960-02-01,110\n")
    done = subprocess.run(
        [EXE, "predict", "model.tsrnn", "two.csv"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.count("\nnew,") == 6  # the model's horizon
    assert done.stderr == (
        "LSTM reads the last 24 points of each series (its input size); 1 of 1 series have "
        "fewer observed points (shortest: 'new', 2 points): the network reads padding for the "
        "rest, so their forecasts rest on little history\n"
    )

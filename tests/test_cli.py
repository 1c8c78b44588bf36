import os
import shutil
import subprocess
import sys
from pathlib import Path

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
    assert verbose.exit_code != 0 and isinstance(verbose.exception, tsrnn.DataError)


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

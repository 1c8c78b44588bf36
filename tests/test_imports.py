import subprocess
import sys


def test_library_never_imports_typer_and_import_tsrnn_stays_light():
    code = (
        "import sys, pkgutil, importlib, tsrnn\n"
        "light = not {'torch', 'statsmodels', 'matplotlib', 'typer'} & set(sys.modules)\n"
        "for m in pkgutil.walk_packages(tsrnn.__path__, 'tsrnn.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(light, 'typer' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "False"]


def test_the_public_names_come_from_the_top_and_load_lazily():
    code = (
        "import sys, tsrnn\n"
        "before = {'torch', 'statsmodels'} & set(sys.modules)\n"
        "from tsrnn import (LSTMForecaster, GRUForecaster, RNNForecaster, ETS, ARIMA, Theta,\n"
        "    SeasonalNaive, Naive2, Ensemble, backtest, write_report, read_csv, load)\n"
        "from tsrnn.models.neural import LSTMForecaster as L\n"
        "from tsrnn.evaluate.backtest import backtest as b\n"
        "assert LSTMForecaster is L and backtest is b\n"
        "assert all(getattr(tsrnn, name) is not None for name in tsrnn.__all__)\n"
        "assert 'LSTMForecaster' in dir(tsrnn)\n"
        "try:\n"
        "    tsrnn.LSTMForecast\n"
        "except AttributeError as err:\n"
        "    print(err)\n"
        "print(sorted(before), 'torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "module 'tsrnn' has no attribute 'LSTMForecast'",
        "[] True",
    ]


def test_a_cli_error_about_a_file_answers_without_loading_torch(tmp_path):
    """A one-line message about a data file (no model parameter in it) comes without the 2-3 s
    of importing torch: only a message naming a model parameter needs the model's table."""
    one = tmp_path / "one.csv"
    one.write_text("unique_id,ds,y\ns,2024-01-01,3\n")
    code = (
        "import sys\n"
        "from tsrnn_cli.app import in_cli_words, main\n"
        f"sys.argv = ['tsrnn', 'info', {str(one)!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as done:\n"
        "    print(done.code, 'torch' in sys.modules)\n"
        "print(in_cli_words('lower val_size=', {}), 'torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "one.csv: the file has one data row" in done.stderr
    assert done.stdout.splitlines() == ["2 False", "lower [model] val_size (in --config) True"]

"""tsrnn: recurrent-network forecasting for many series with gaps.

The data path: CSV / DataFrame -> :class:`Panel` -> impute, scale -> windows -> model ->
forecasts -> backtest -> report. ``import tsrnn`` stays fast: torch, statsmodels and
matplotlib are imported by the modules that need them.
"""

from __future__ import annotations

import logging
import os
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from tsrnn.data.io import DataReport, read_csv
from tsrnn.data.panel import Panel, as_panel
from tsrnn.data.parquet import read_parquet
from tsrnn.errors import DataError
from tsrnn.parallel import parallel_backend

if TYPE_CHECKING:  # the models import torch (or statsmodels): for annotations and checkers
    from tsrnn.evaluate.backtest import BacktestResult, backtest
    from tsrnn.evaluate.conformal import ConformalForecaster
    from tsrnn.evaluate.metrics import evaluate
    from tsrnn.evaluate.tuning import ForecastingGridSearch, ForecastingOptunaSearch
    from tsrnn.models.base import Forecaster
    from tsrnn.models.ensemble import Ensemble
    from tsrnn.models.neural import GRUForecaster, LSTMForecaster, RNNForecaster
    from tsrnn.models.stats import (
        ARIMA,
        ETS,
        SES,
        Comb,
        Damped,
        Drift,
        HistoricAverage,
        Holt,
        Naive,
        Naive2,
        SeasonalNaive,
        Theta,
        WindowAverage,
    )
    from tsrnn.report.backtest_report import write_report

# The public names, imported on first use (PEP 562): ``import tsrnn`` stays light, and
# ``from tsrnn import LSTMForecaster`` imports torch only then.
_LAZY = {
    **dict.fromkeys(("LSTMForecaster", "GRUForecaster", "RNNForecaster"), "tsrnn.models.neural"),
    **dict.fromkeys(
        (
            "ARIMA",
            "ETS",
            "SES",
            "Comb",
            "Damped",
            "Drift",
            "HistoricAverage",
            "Holt",
            "Naive",
            "Naive2",
            "SeasonalNaive",
            "Theta",
            "WindowAverage",
        ),
        "tsrnn.models.stats",
    ),
    "Ensemble": "tsrnn.models.ensemble",
    "Forecaster": "tsrnn.models.base",
    "ConformalForecaster": "tsrnn.evaluate.conformal",
    "backtest": "tsrnn.evaluate.backtest",
    "BacktestResult": "tsrnn.evaluate.backtest",
    "evaluate": "tsrnn.evaluate.metrics",
    "ForecastingGridSearch": "tsrnn.evaluate.tuning",
    "ForecastingOptunaSearch": "tsrnn.evaluate.tuning",
    "write_report": "tsrnn.report.backtest_report",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tsrnn' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


# A library logs, the application decides what is shown (the CLI configures logging).
logging.getLogger("tsrnn").addHandler(logging.NullHandler())

try:
    __version__ = version("tsrnn")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"


def load(path: str | os.PathLike[str], device: str | None = None) -> Forecaster:
    """Load a forecaster written by ``model.save(path)``.

    Parameters
    ----------
    path : str or os.PathLike
        The model file (read with ``torch.load(weights_only=True)``: no pickled code runs).
    device : str, optional
        Where to run the network; default: where it was trained, or the CPU if that GPU is
        not here.
    """
    from tsrnn.registry import load as load_model

    return load_model(path, device=device)


__all__ = [
    "ARIMA",
    "ETS",
    "SES",
    "BacktestResult",
    "Comb",
    "ConformalForecaster",
    "DataError",
    "DataReport",
    "Damped",
    "Drift",
    "Ensemble",
    "Forecaster",
    "ForecastingGridSearch",
    "ForecastingOptunaSearch",
    "GRUForecaster",
    "HistoricAverage",
    "Holt",
    "LSTMForecaster",
    "Naive",
    "Naive2",
    "Panel",
    "parallel_backend",
    "RNNForecaster",
    "SeasonalNaive",
    "Theta",
    "WindowAverage",
    "__version__",
    "as_panel",
    "backtest",
    "evaluate",
    "load",
    "read_csv",
    "read_parquet",
    "write_report",
]

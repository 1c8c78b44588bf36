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
from tsrnn.errors import DataError

if TYPE_CHECKING:  # the models import torch: only for the annotation
    from tsrnn.models.base import Forecaster

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


__all__ = ["DataError", "DataReport", "Panel", "__version__", "as_panel", "load", "read_csv"]

"""The figures of the backtest report, each rendered to PNG bytes.

Every function builds a :class:`matplotlib.figure.Figure` directly (no ``pyplot``, so no GUI
backend and no global state) and returns the PNG, ready to be written to a file or embedded in
HTML. matplotlib is imported inside the functions: ``import tsrnn`` stays light.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

# Wide and short: reads on a laptop at full width and on a phone scaled down to the screen.
_SIZE = (8.0, 3.6)
_DPI = 110


def _figure(size: tuple[float, float] = _SIZE) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=size, dpi=_DPI, layout="constrained")


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    # No Software/date metadata: the same report gives the same bytes.
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def plot_metric_distribution(per_series: pd.DataFrame, metric: str) -> bytes:
    """Box plot of ``metric`` per model over series and windows, every value drawn as a dot.

    ``per_series`` is ``result.metrics([metric], by="series")``.
    """
    models = list(dict.fromkeys(per_series["model"]))
    values = [per_series.loc[per_series["model"] == m, metric].dropna().to_numpy() for m in models]
    fig = _figure((8.0, max(2.2, 0.55 * len(models) + 1.2)))
    ax = fig.add_subplot()
    ax.boxplot(values, orientation="horizontal", tick_labels=models, showfliers=False)
    for i, v in enumerate(values, start=1):
        jitter = np.linspace(-0.12, 0.12, len(v)) if len(v) > 1 else np.zeros(len(v))
        ax.scatter(v, i + jitter, s=10, alpha=0.5, color="tab:blue", zorder=3)
    ax.invert_yaxis()  # the leaderboard order, best on top
    ax.set_xlabel(f"{metric} per series and window (lower is better)")
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def plot_horizon_errors(per_horizon: pd.DataFrame, metric: str) -> bytes:
    """``metric`` against the step ahead, one line per model.

    ``per_horizon`` is ``result.metrics([metric], by="horizon")``.
    """
    fig = _figure()
    ax = fig.add_subplot()
    for model, part in per_horizon.groupby("model", sort=False):
        ax.plot(part["step"], part[metric], marker="o", markersize=3, label=str(model))
    ax.set_xlabel("step ahead")
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", ncols=min(4, per_horizon["model"].nunique()))
    return _png(fig)


def plot_forecast(
    actual: pd.DataFrame,
    forecasts: pd.DataFrame,
    model: str,
    interval: tuple[str, str, int] | None,
    title: str,
) -> bytes:
    """One series: its actual values and each window's forecast by ``model``.

    Parameters
    ----------
    actual : pandas.DataFrame
        ``ds``, ``y``: the series' history and the actuals of its forecast windows.
    forecasts : pandas.DataFrame
        The backtest's rows of this series (``window``, ``ds``, ``model`` and the interval
        columns).
    interval : (str, str, int) or None
        The lower and upper quantile columns to shade, and the interval's level in percent.
    """
    fig = _figure()
    ax = fig.add_subplot()
    ax.plot(actual["ds"], actual["y"], color="black", linewidth=1.2, label="actual")
    for i, (_, part) in enumerate(forecasts.groupby("window")):
        if interval is not None:
            ax.fill_between(
                part["ds"],
                part[interval[0]],
                part[interval[1]],
                color="tab:orange",
                alpha=0.25,
                linewidth=0,
                label=f"{interval[2]}% interval" if i == 0 else None,
            )
        ax.plot(
            part["ds"],
            part[model],
            color="tab:orange",
            linewidth=1.5,
            label=model if i == 0 else None,
        )
        ax.axvline(part["ds"].iloc[0], color="grey", linewidth=0.6, alpha=0.5)
    ax.set_title(title, fontsize="medium")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper left")
    return _png(fig)


def plot_training_curve(history: pd.DataFrame, model: str) -> bytes:
    """Training loss and validation loss (where measured) against the optimizer step."""
    fig = _figure()
    ax = fig.add_subplot()
    for column, style in (("loss", "-"), ("val_loss", "--")):
        if column in history and history[column].notna().any():
            ax.plot(history["step"], history[column], style, marker="o", markersize=3, label=column)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(model, fontsize="medium")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return _png(fig)

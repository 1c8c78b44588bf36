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

# The models a reader looks for, each in its own strong colour: the leader, the reference
# baseline (skill is measured against it), the best network. Others are thin: in a muted
# colour-blind-safe palette (Okabe-Ito, less its strong colours) while they are few, in grey
# when there are more than it has colours.
ROLES = {
    "best": ("#0072B2", 2.4, "-"),  # blue
    "reference": ("#000000", 1.8, "--"),  # black, dashed
    "neural": ("#D55E00", 2.0, "-"),  # vermilion
}
_OTHERS = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#F0E442", "#999933", "#882255")
_GREY = "#9a9a9a"


def styles(models: list[str], roles: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Line style of each model: ``roles`` maps a model to ``"best"``, ``"reference"`` or
    ``"neural"`` (a model may hold more than one: the first listed here wins)."""
    out = {}
    others = [m for m in models if m not in roles]
    for model in models:
        role = roles.get(model)
        if role is not None:
            color, width, dash = ROLES[role]
            out[model] = {"color": color, "linewidth": width, "linestyle": dash, "zorder": 3}
        else:
            k = others.index(model)
            color = _OTHERS[k] if len(others) <= len(_OTHERS) else _GREY
            out[model] = {"color": color, "linewidth": 1.0, "linestyle": "-", "zorder": 2}
    return out


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
    scale = _log_if_wide(np.concatenate(values) if values else np.zeros(0))
    if scale:
        ax.set_xscale("log")
    ax.set_xlabel(f"{metric} per series and window (lower is better{scale})")
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def plot_horizon_errors(
    per_horizon: pd.DataFrame, metric: str, roles: dict[str, str] | None = None
) -> bytes:
    """``metric`` against the step ahead, one line per model, the models of ``roles`` (see
    :func:`styles`) emphasized; the legend, in the leaderboard's order, sits outside the axes.

    ``per_horizon`` is ``result.metrics([metric], by="horizon")``.
    """
    models = [str(m) for m in dict.fromkeys(per_horizon["model"])]
    style = styles(models, roles or {})
    fig = _figure((8.0, max(3.6, 0.22 * len(models) + 1.0)))
    ax = fig.add_subplot()
    for model, part in per_horizon.groupby("model", sort=False):
        label = str(model)
        role = (roles or {}).get(label)
        if role is not None:
            label += {"best": " (best)", "reference": " (reference)", "neural": " (best network)"}[
                role
            ]
        marker = "o" if role is not None else None
        ax.plot(
            part["step"],
            part[metric],
            marker=marker,
            markersize=3,
            label=label,
            **style[str(model)],
        )
    ax.set_xlabel("step ahead")
    scale = _log_if_wide(per_horizon[metric].to_numpy(dtype=float))
    if scale:
        ax.set_yscale("log")
    ax.set_ylabel(metric + scale)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return _png(fig)


def _log_if_wide(values: np.ndarray) -> str:
    """``", log scale"`` when positive values span more than a factor of 20 between their
    1st and 99th percentiles (a linear axis would flatten the good models against 0), else
    ``""``."""
    values = values[np.isfinite(values)]
    if len(values) == 0 or values.min() <= 0:
        return ""
    low, high = np.percentile(values, [1, 99])
    return ", log scale" if high > 20 * low else ""


def plot_forecast(
    actual: pd.DataFrame,
    forecasts: pd.DataFrame,
    models: dict[str, str],
    interval: tuple[str, str, int] | None,
    title: str,
) -> bytes:
    """One series: its history and actuals, and each window's forecasts by ``models``.

    Parameters
    ----------
    actual : pandas.DataFrame
        ``ds``, ``y``: the series' history before the first cutoff and the actuals of its
        forecast windows.
    forecasts : pandas.DataFrame
        The backtest's rows of this series (``window``, ``ds``, the models' columns and the
        interval columns).
    models : dict of str to str
        Model to its role (``"best"``, ``"reference"``, ``"neural"``; see :func:`styles`), in
        the order drawn; the first is the leader.
    interval : (str, str, int) or None
        The leader's lower and upper quantile columns to shade, and the level in percent.
    """
    fig = _figure()
    ax = fig.add_subplot()
    ax.plot(actual["ds"], actual["y"], color="#404040", linewidth=1.1, label="actual", zorder=4)
    style = styles(list(models), models)
    leader = next(iter(models))
    for i, (_, part) in enumerate(forecasts.groupby("window")):
        if interval is not None:
            ax.fill_between(
                part["ds"],
                part[interval[0]],
                part[interval[1]],
                color=ROLES["best"][0],
                alpha=0.18,
                linewidth=0,
                label=f"{leader} {interval[2]}% interval" if i == 0 else None,
            )
        for model in models:
            ax.plot(part["ds"], part[model], label=model if i == 0 else None, **style[model])
        ax.axvline(part["ds"].iloc[0], color="grey", linewidth=0.6, alpha=0.5)
    if pd.api.types.is_datetime64_any_dtype(actual["ds"]):
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

        locator = AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.set_title(title, fontsize="medium")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return _png(fig)


def plot_training_curve(history: pd.DataFrame, model: str) -> bytes:
    """Training loss and validation loss (where measured) against the optimizer step; a
    refit's training loss (``phase`` "refit") as its own line."""
    fig = _figure()
    ax = fig.add_subplot()
    refit = history.get("phase", pd.Series("fit", index=history.index)) == "refit"
    lines = (
        ("loss", history[~refit], "-", "loss"),
        ("val_loss", history, "--", "val_loss"),
        ("loss", history[refit], ":", "loss, refit on every window"),
    )
    for column, rows, style, label in lines:
        if column in rows and rows[column].notna().any():
            ax.plot(rows["step"], rows[column], style, marker="o", markersize=3, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(model, fontsize="medium")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return _png(fig)

"""Every model a user can name, in one registry above the layers it names.

The CLI (``--model lstm``), the reports (which models are statistical baselines) and
:func:`load` (a model file names its class) all look models up here. Each entry names its
class by module and name, imported when asked for, so ``import tsrnn.registry`` stays light
(no torch, no statsmodels); the registry sits above ``tsrnn.models`` and
``tsrnn.evaluate``, so naming a wrapper such as the conformal forecaster is no upward link.
What a command sets by default (e.g. ``n_jobs``) is the command's business:
``cli/settings.py``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tsrnn.errors import DataError


@dataclass(frozen=True)
class Entry:
    """One model: its name on the command line, where its class lives, and its role."""

    name: str  # as the CLI takes it: "lstm", "snaive"
    module: str
    class_name: str
    baseline: bool | None  # a statistical baseline; None: as the model it wraps
    cli: bool = True  # offered by --model/--models

    def cls(self) -> type:
        return getattr(importlib.import_module(self.module), self.class_name)


REGISTRY: tuple[Entry, ...] = (
    Entry("lstm", "tsrnn.models.neural.forecaster", "LSTMForecaster", baseline=False),
    Entry("gru", "tsrnn.models.neural.forecaster", "GRUForecaster", baseline=False),
    Entry("rnn", "tsrnn.models.neural.forecaster", "RNNForecaster", baseline=False),
    Entry(
        "neural", "tsrnn.models.neural.forecaster", "NeuralForecaster", baseline=False, cli=False
    ),
    Entry("naive", "tsrnn.models.stats.naive", "Naive", baseline=True),
    Entry("snaive", "tsrnn.models.stats.naive", "SeasonalNaive", baseline=True),
    Entry("naive2", "tsrnn.models.stats.naive", "Naive2", baseline=True),
    Entry("drift", "tsrnn.models.stats.naive", "Drift", baseline=True),
    Entry("mean", "tsrnn.models.stats.naive", "HistoricAverage", baseline=True),
    Entry("window_mean", "tsrnn.models.stats.naive", "WindowAverage", baseline=True),
    Entry("ses", "tsrnn.models.stats.smoothing", "SES", baseline=True),
    Entry("holt", "tsrnn.models.stats.smoothing", "Holt", baseline=True),
    Entry("damped", "tsrnn.models.stats.smoothing", "Damped", baseline=True),
    Entry("comb", "tsrnn.models.stats.smoothing", "Comb", baseline=True),
    Entry("theta", "tsrnn.models.stats.smoothing", "Theta", baseline=True),
    Entry("ets", "tsrnn.models.stats.smoothing", "ETS", baseline=True),
    Entry("arima", "tsrnn.models.stats.arima", "ARIMA", baseline=True),
    Entry("conformal", "tsrnn.evaluate.conformal", "ConformalForecaster", baseline=None, cli=False),
    Entry("ensemble", "tsrnn.models.ensemble", "Ensemble", baseline=None),
)
NEURAL = tuple(e.name for e in REGISTRY if e.cli and e.baseline is False)
BASELINES = tuple(e.name for e in REGISTRY if e.cli and e.baseline)


def entry(name: str) -> Entry:
    """The entry of a CLI name (``"lstm"``) or a class name (``"LSTMForecaster"``)."""
    key = name.strip().lower()
    for e in REGISTRY:
        if key in (e.name, e.class_name.lower()):
            return e
    offered = ", ".join(e.name for e in REGISTRY if e.cli)
    raise DataError(f"unknown model {name!r}; choose from {offered}")


def entry_of(model: Any) -> Entry | None:
    """The entry of a model's class, or of the nearest registered class it derives from."""
    for cls in type(model).__mro__:
        for e in REGISTRY:
            if (cls.__module__, cls.__name__) == (e.module, e.class_name):
                return e
    return None


def is_baseline(model: Any) -> bool:
    """Whether ``model`` (an estimator) is a statistical baseline; a wrapper is what it wraps,
    an ensemble is one when all its members are, a class the registry does not know is not."""
    e = entry_of(model)
    if e is None:
        return False
    if e.baseline is None:
        members = getattr(model, "models", None)
        if isinstance(members, list | tuple) and members:  # an ensemble of baselines is one
            return all(is_baseline(m) for m in members)
        return is_baseline(getattr(model, "model", None))
    return e.baseline


def build(name: str, params: Mapping[str, Any] | None = None, **defaults: Any) -> Any:
    """A model by its CLI name: ``params`` on top of ``defaults`` (e.g. ``season=24``,
    ``n_jobs=2``), each default only where the class takes it.

    Unknown parameters raise :class:`~tsrnn.errors.DataError` naming them.
    """
    e = entry(name)
    cls = e.cls()
    known = set(cls().get_params())
    given = dict(params or {})
    unknown = sorted(set(given) - known)
    if unknown:
        raise DataError(
            f"unknown model parameter(s) {unknown} for {cls.__name__}; it takes "
            f"{', '.join(sorted(known - {'callback'}))}"
        )
    chosen = {k: v for k, v in defaults.items() if k in known}
    return cls(**{**chosen, **given})


def load(path: str | os.PathLike[str], device: str | None = None) -> Any:
    """A model written by ``model.save(path)`` (see :func:`tsrnn.load`)."""
    from tsrnn.models.base import from_state
    from tsrnn.models.persistence import read_model

    saved = read_model(path)
    try:
        e = entry(saved.class_name)
    except DataError:
        raise DataError(f"{path}: unknown model class {saved.class_name!r}") from None
    cls = e.cls()
    known = set(cls().get_params())
    params = {k: v for k, v in from_state(saved.params).items() if k in known}
    try:
        model = cls(**params).set_state(saved.state)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise DataError(
            f"{path}: a tsrnn model file this tsrnn cannot read (written by tsrnn "
            f"{saved.meta.get('tsrnn_version')}, format {saved.meta.get('format_version')}: "
            f"{type(exc).__name__}: {exc}); refit the model and save it again"
        ) from None
    return model if device is None else model.to(device)


__all__ = ["BASELINES", "NEURAL", "REGISTRY", "Entry", "build", "entry", "is_baseline", "load"]

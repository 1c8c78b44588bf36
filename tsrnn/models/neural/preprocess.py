"""What the network reads, made from the data one way for fit, update, predict and backtests.

A :class:`Preprocessor` is fitted once, in ``fit``, on the training span: the standardization
of each covariate. It then makes a :class:`Prepared` of any set of series (the training panel,
a history given to ``predict(y=...)``, a backtest's panel): inputs imputed causally (the
imputer fitted on the span given), each target scaled per series by statistics of its points
before ``end`` only, and each series' spread, which window normalization falls back on. It
keeps the prepared tail of each fitted series (:attr:`Preprocessor.context`), so a saved model
forecasts without its training data.

:class:`WindowNorm` normalizes each input window by its own observed values, finding the
columns it reads by their feature names.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from tsrnn.data.impute import Imputer
from tsrnn.data.panel import Panel
from tsrnn.data.scale import Scaler
from tsrnn.data.windows import Batch
from tsrnn.models.neural import inputs
from tsrnn.models.neural.thetabase import theta_paths

THETA = "_theta_"  # the covariates holding Theta's forecast from each point (``_theta_1`` ...)

# Window normalization: with fewer observed points a window has no usable spread of its own,
# and no window's scale goes below this fraction of its series' spread.
MIN_WINDOW_POINTS = 3
MIN_WINDOW_SCALE = 0.01


@dataclass(frozen=True)
class Prepared:
    """Series made ready for the network, and how to map forecasts back to their units."""

    filled: Panel  # inputs imputed, in the data's units
    scalers: list[Scaler]  # per target (y first, then the extra targets), per series
    spread: np.ndarray  # (n_series, n_targets): each series' spread in scaled units
    panel: Panel  # ``filled`` scaled: what the windows gather from


class Preprocessor:
    """The fitted imputer, scalers and covariate standardization of a neural forecaster.

    Parameters
    ----------
    impute : str
        Strategy of the causal input imputer (:class:`~tsrnn.data.impute.Imputer`).
    scaler : str
        Per-series scaling method of every target (:class:`~tsrnn.data.scale.Scaler`).
    season : int
        Season of the ``"seasonal"`` imputer.
    targets : tuple of str
        Extra target columns, each scaled per series like ``y``.
    train_on_imputed : bool
        Imputed points count as observed (as inputs and as targets).
    context_size : int
        Points of each series kept for forecasting (twice the input window: the time since
        the last observation is then exact up to its cap).
    theta_horizon : int
        With ``H > 0``, the filled inputs gain Theta's forecast of the ``H`` steps after each
        point (``theta_input``), scaled as ``y`` is; 0: none.
    """

    def __init__(
        self,
        *,
        impute: str,
        scaler: str,
        season: int,
        targets: tuple[str, ...],
        train_on_imputed: bool,
        context_size: int,
        theta_horizon: int = 0,
    ) -> None:
        self.theta_horizon = theta_horizon
        self.impute = impute
        self.scaler = scaler
        self.season = season
        self.targets = tuple(targets)
        self.train_on_imputed = train_on_imputed
        self.context_size = context_size

    def fit(self, panel: Panel, end: np.ndarray) -> Preprocessor:
        """Standardize each covariate by its mean and spread over the first ``end[s]`` points
        of each series (pooled over series)."""
        self.covariate_names = panel.covariate_names
        self.covariate_loc, self.covariate_scale = inputs.covariate_stats(panel, end)
        return self

    # ------------------------------------------------------------------ making inputs
    def impute_inputs(self, panel: Panel, fit_on: Panel | None = None) -> Panel:
        """``panel`` imputed by the causal input imputer fitted on ``fit_on`` (default: the
        panel); with ``train_on_imputed`` the filled points count as observed."""
        imputer = Imputer(self.impute, causal=True, season=self.season)
        filled = imputer.fit(panel if fit_on is None else fit_on).transform(panel)
        if self.train_on_imputed:
            filled = filled.replace(observed=~np.isnan(filled.values))
        return self._with_theta(filled)

    def _with_theta(self, filled: Panel) -> Panel:
        """``filled`` with Theta's forecast from each point (:mod:`.thetabase`) as the past
        covariates ``_theta_1`` .. ``_theta_H`` (in the data's units), where the model reads
        it; a panel that has them already is returned as it is."""
        H = self.theta_horizon
        if not H or (filled.covariate_names and filled.covariate_names[-1].startswith(THETA)):
            return filled
        paths = theta_paths(filled.values, filled.offsets, self.season, H)
        names = tuple(f"{THETA}{j}" for j in range(1, H + 1))
        covs = (
            paths
            if filled.covariates is None or not filled.covariate_names
            else (np.concatenate([filled.covariates, paths], axis=1))
        )
        return filled.replace(covariates=covs, covariate_names=filled.covariate_names + names)

    def prepare(
        self, panel: Panel, end: np.ndarray | None = None, filled: Panel | None = None
    ) -> Prepared:
        """``panel`` imputed (unless ``filled`` is given), each target scaled by statistics of
        the first ``end[s]`` points of each series (default: all), covariates standardized."""
        if filled is None:
            filled = self.impute_inputs(panel)
        scalers = self._scalers(panel, end)
        scaled = self._scale(filled, scalers)
        spread = inputs.series_spread(scaled, panel.lengths if end is None else end, self.targets)
        return Prepared(filled, scalers, spread, scaled)

    def _scalers(self, panel: Panel, end: np.ndarray | None) -> list[Scaler]:
        scalers = [Scaler(self.scaler).fit(panel, end=end)]
        scalers += [
            Scaler(self.scaler).fit(inputs.target_panel(panel, t), end=end) for t in self.targets
        ]
        return scalers

    def _scale(self, filled: Panel, scalers: list[Scaler]) -> Panel:
        n = len(self.covariate_names)
        theta = [c for c in filled.covariate_names[n:] if c.startswith(THETA)]
        if not theta:
            return inputs.prepare(
                filled, scalers, self.targets, self.covariate_loc, self.covariate_scale
            )
        k = len(theta)
        loc = np.concatenate([self.covariate_loc, np.zeros(k)])
        scale = np.concatenate([self.covariate_scale, np.ones(k)])
        scaled = inputs.prepare(filled, scalers, self.targets, loc, scale)
        covs = scaled.covariates  # a new array: the covariates standardized
        loc, scale = scalers[0]._per_point(filled)  # in y's units: scaled as y is
        block = covs[:, n:]  # horizon numbers a point: computed in place, no temporaries
        np.subtract(filled.covariates[:, n:], loc[:, None], out=block)
        block /= scale[:, None]
        return scaled.replace(covariates=covs)

    def _without_theta(self, filled: Panel) -> Panel:
        """``filled`` without Theta's columns (the last ones), sharing its arrays."""
        names = filled.covariate_names
        n = sum(not c.startswith(THETA) for c in names)
        if n == len(names):
            return filled
        return filled.replace(covariates=filled.covariates[:, :n], covariate_names=names[:n])

    def future_values(
        self, X_future: Any, index: Panel, h: int, future: tuple[str, ...], model: str
    ) -> np.ndarray | None:
        """Known-future covariates for the ``h`` steps after each series of ``index``,
        standardized as in training; None when the model reads none."""
        if not future:
            return None
        j = [self.covariate_names.index(c) for c in future]
        values = inputs.future_values(X_future, index, h, future, model)
        return (values - self.covariate_loc[j]) / self.covariate_scale[j]

    # ------------------------------------------------------------------ the stored context
    def remember(self, panel: Panel, filled: Panel | None = None) -> None:
        """Keep the tail of each series of ``panel`` to forecast from (:attr:`context`): its
        inputs imputed (``filled``, when given, is ``panel`` imputed already), each target
        rescaled on the whole series. Only the tails are scaled: the whole panel's scaled
        copy (``horizon`` numbers a point with the Theta input) would be thrown away."""
        if filled is None:
            filled = self.impute_inputs(panel)
        scalers = self._scalers(panel, None)
        inputs_only = self._scale(self._without_theta(filled), scalers)
        spread = inputs.series_spread(inputs_only, panel.lengths, self.targets)
        tail = inputs.tail(filled, self.context_size)
        self.context = Prepared(tail, scalers, spread, self._scale(tail, scalers))

    def with_context(self, panel: Panel) -> Preprocessor:
        """A copy forecasting from the tails of ``panel`` (the fitted parts shared)."""
        new = copy.copy(self)
        new.remember(panel)
        return new

    # ------------------------------------------------------------------ state
    def get_state(self) -> dict[str, Any]:
        """The fitted parts as plain data (see :meth:`tsrnn.models.base.Forecaster.get_state`)."""
        return {
            "covariate_names": list(self.covariate_names),
            "covariate_loc": np.asarray(self.covariate_loc),
            "covariate_scale": np.asarray(self.covariate_scale),
            "context": self.context.filled.to_state(),
            "scalers": [
                {"method": s.method, "ids": list(s.ids_), "loc": s.loc_, "scale": s.scale_}
                for s in self.context.scalers
            ],
            "spread": self.context.spread,
        }

    def set_state(self, state: dict[str, Any]) -> Preprocessor:
        self.covariate_names = tuple(state["covariate_names"])
        self.covariate_loc = np.asarray(state["covariate_loc"])
        self.covariate_scale = np.asarray(state["covariate_scale"])
        scalers = []
        for s in state["scalers"]:
            scaler = Scaler(s["method"])
            scaler.ids_ = np.asarray(s["ids"], dtype=object).astype(str)
            scaler.loc_, scaler.scale_ = np.asarray(s["loc"]), np.asarray(s["scale"])
            scalers.append(scaler)
        tail = Panel.from_state(state["context"])
        spread = np.asarray(state["spread"])
        self.context = Prepared(tail, scalers, spread, self._scale(tail, scalers))
        return self


# ---------------------------------------------------------------------- window normalization
def target_columns(
    feature_names: Sequence[str], targets: Sequence[str]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Input columns of each target's value and observed flag: ``value`` and ``observed`` for
    ``y``, then ``<target>`` and ``<target>_observed`` for each extra target."""
    names = list(feature_names)
    values = (names.index("value"), *(names.index(t) for t in targets))
    observed = (names.index("observed"), *(names.index(f"{t}_observed") for t in targets))
    return values, observed


def theta_columns(feature_names: Sequence[str]) -> tuple[int, int]:
    """The input columns ``(start, stop)`` of Theta's forecast (``theta_input``); ``(0, 0)``
    for none."""
    theta = [i for i, c in enumerate(feature_names) if c.startswith(THETA)]
    return (theta[0], theta[-1] + 1) if theta else (0, 0)


@dataclass(frozen=True)
class WindowNorm:
    """Normalize each input window, and its targets, by the window's own observed values.

    Each target column of a window maps through one affine function, its statistics taken
    from the observed points (imputed values are mapped too; left padding and points staler
    than the window read 0, as without normalization). A window with fewer than 3 observed
    points, or no spread, takes its series' spread (from the training span), and no window's
    scale is below a hundredth of it: a window holding one value near 0 must not blow its
    targets up by orders of magnitude.
    """

    method: str | None  # "standard", "meanabs" or None (no normalization)
    values: tuple[int, ...]  # input column of each target's value
    observed: tuple[int, ...]  # input column of each target's observed flag
    staleness: int  # input column of y's time since its last observation
    theta: tuple[int, int] = (0, 0)  # input columns of Theta's forecast, in y's units

    @classmethod
    def of(
        cls, method: str | None, feature_names: Sequence[str], targets: Sequence[str]
    ) -> WindowNorm:
        """The normalization of windows laid out as ``feature_names``."""
        values, observed = target_columns(feature_names, targets)
        staleness = list(feature_names).index("time_since_observed")
        return cls(method, values, observed, staleness, theta_columns(feature_names))

    def __call__(self, batch: Batch, spread_all: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Network inputs and targets of a batch, normalized in place (the batch's tensors are
        scratch space, overwritten by the next gather).

        Returns ``x (B, L, F)``, ``y (B, H, T)``, ``mask (B, H, T)`` and the normalization's
        ``loc`` and ``scale`` ``(B, 1, T)`` (``None`` without it); ``spread_all[series]`` is
        each series' spread ``(T,)``.
        """
        x, y, mask = batch.x, batch.y, batch.y_mask
        if y.dim() == 2:
            y, mask = y.unsqueeze(-1), mask.unsqueeze(-1)
        if self.method is None:
            return x, y, mask, None, None
        spread = spread_all[batch.series]  # (B, T)
        locs, scales = [], []
        for j, (col, seen_col) in enumerate(zip(self.values, self.observed, strict=True)):
            v = x[..., col]  # (B, L)
            seen = x[..., seen_col]  # observed flag, 1.0 / 0.0
            n = seen.sum(dim=1, keepdim=True)  # (B, 1)
            if self.method == "meanabs":
                loc = torch.zeros_like(n)
                scale = (v.abs() * seen).sum(dim=1, keepdim=True) / n.clamp(min=1.0)
            else:
                loc = (v * seen).sum(dim=1, keepdim=True) / n.clamp(min=1.0)
                dev = (v - loc) * seen
                scale = ((dev * dev).sum(dim=1, keepdim=True) / n.clamp(min=1.0)).sqrt_()
            spread_j = spread[:, j : j + 1]  # (B, 1)
            unreliable = (n < MIN_WINDOW_POINTS) | (scale <= 1e-6 * spread_j)
            scale = torch.where(unreliable, spread_j, scale)
            scale = torch.maximum(scale, MIN_WINDOW_SCALE * spread_j)
            v.sub_(loc).div_(scale)
            # Inputs that hold nothing read 0, as without normalization: for y's value, padding
            # and points staler than the window (imputed ones keep their values); for an extra
            # target (never imputed), every unobserved point.
            v.masked_fill_(x[..., self.staleness] >= 1.0 if j == 0 else seen < 0.5, 0.0)
            if j == 0 and self.theta[1]:
                paths = x[..., self.theta[0] : self.theta[1]]  # (B, L, H), a view
                paths.sub_(loc.unsqueeze(-1)).div_(scale.unsqueeze(-1))
                paths.masked_fill_((x[..., self.staleness] >= 1.0).unsqueeze(-1), 0.0)
            y[..., j].sub_(loc).div_(scale)
            locs.append(loc)
            scales.append(scale)
        B, T = len(x), len(locs)
        loc = locs[0].view(B, 1, 1) if T == 1 else torch.cat(locs, dim=1).view(B, 1, T)
        scale = scales[0].view(B, 1, 1) if T == 1 else torch.cat(scales, dim=1).view(B, 1, T)
        return x, y, mask, loc, scale

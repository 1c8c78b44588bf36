"""Training losses over masked targets, and the output distributions behind them.

Every loss takes the network's constrained outputs ``params`` of shape ``(B, H, T, P)`` (``T``
targets, ``P`` numbers per target and step), targets ``y`` and a boolean ``mask`` of shape
``(B, H, T)``, and returns the mean over the *observed* targets only. Unobserved targets are
selected away with ``torch.where`` before any reduction, so they add exactly nothing to the loss
and get exactly zero gradient: a missing value is never a target of 0.

- point losses (``P = 1``): ``"mse"``, ``"mae"``, ``"huber"`` (delta 1 in scaled units);
- ``"quantile"`` (``P = Q``): the pinball loss averaged over the quantile levels;
- distributions, by negative log-likelihood: ``"normal"`` (``P = 2``: mean, standard
  deviation), ``"studentt"`` (``P = 3``: location, scale, degrees of freedom) and ``"negbin"``
  (``P = 2``: mean, dispersion ``alpha`` with variance ``mu + alpha * mu**2``) for counts.

A negative binomial describes counts, not scaled values: its loss gets each window's ``scale``
(the product of the series scaler's and the window normalization's, with location 0) and
evaluates the likelihood of ``round(y * scale)`` under mean ``mu * scale`` (as DeepAR does).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

POINT = ("mse", "mae", "huber")
DISTRIBUTIONS = ("normal", "studentt", "negbin")
LOSSES = (*POINT, "quantile", *DISTRIBUTIONS)


def n_params(loss: str, n_quantiles: int = 0) -> int:
    """Numbers the network outputs per target and step for ``loss``."""
    if loss in POINT:
        return 1
    if loss == "quantile":
        return n_quantiles
    return {"normal": 2, "studentt": 3, "negbin": 2}[loss]


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` where ``mask``; 0 (with zero gradient) when nothing is observed."""
    kept = torch.where(mask, values, torch.zeros((), dtype=values.dtype, device=values.device))
    return kept.sum() / mask.sum().clamp(min=1)


def weighted_mean(values: torch.Tensor, mask: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` where ``mask``, each weighing ``weight`` (broadcast to ``values``);
    0 (with zero gradient) when nothing observed has a positive weight."""
    zero = torch.zeros((), dtype=values.dtype, device=values.device)
    w = _observed_weights(mask, weight)
    return (torch.where(mask, values, zero) * w).sum() / w.sum().clamp(min=1e-12)


def denominator(loss: str, mask: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    """What :func:`compute_loss` divides by: the observed targets, or their weights."""
    if weight is None:
        return mask.sum()
    return _observed_weights(mask, _per_loss(loss, weight)).sum()


def _observed_weights(mask: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``weight`` broadcast to ``mask``, 0 where nothing was observed."""
    zero = torch.zeros((), dtype=weight.dtype, device=weight.device)
    return torch.where(mask, weight.expand_as(mask), zero)


def _per_loss(loss: str, weight: torch.Tensor | None) -> torch.Tensor | None:
    """A weight scales the errors: the MSE's squared errors count its square."""
    return weight * weight if weight is not None and loss == "mse" else weight


def _mean(values: torch.Tensor, mask: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    return masked_mean(values, mask) if weight is None else weighted_mean(values, mask, weight)


def compute_loss(
    loss: str,
    params: torch.Tensor,
    y: torch.Tensor,
    mask: torch.Tensor,
    *,
    quantiles: torch.Tensor | None = None,
    scale: torch.Tensor | None = None,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """The masked mean ``loss`` of ``params`` (B, H, T, P) against ``y`` and ``mask`` (B, H, T).

    ``weight`` (broadcastable to (B, H, T), e.g. one per window and target (B, 1, T)): the
    weighted mean instead, each observed target's loss counting ``weight`` times (the MSE's
    ``weight ** 2`` times: a weight scales the errors, as a unit would).

    Examples
    --------
    >>> y = torch.tensor([[[1.0], [0.0]]])  # one window, two steps, one target
    >>> mask = torch.tensor([[[True], [False]]])  # the second step was never observed
    >>> params = torch.tensor([[[[3.0]], [[100.0]]]], requires_grad=True)
    >>> loss = compute_loss("mse", params, y, mask)
    >>> loss.item()
    4.0
    >>> loss.backward(); params.grad.flatten().tolist()  # nothing flows to the unobserved step
    [4.0, 0.0]
    """
    safe = torch.where(mask, y, torch.zeros((), dtype=y.dtype, device=y.device))
    weight = _per_loss(loss, weight)
    if loss in POINT:
        pred = params[..., 0]
        if loss == "mse":
            per = (pred - safe) ** 2
        elif loss == "mae":
            per = (pred - safe).abs()
        else:
            per = F.huber_loss(pred, safe, reduction="none", delta=1.0)
        return _mean(per, mask, weight)
    if loss == "quantile":
        if quantiles is None:
            raise ValueError("compute_loss: the quantile loss needs quantiles=")
        diff = safe.unsqueeze(-1) - params  # (B, H, T, Q)
        per = torch.maximum(quantiles * diff, (quantiles - 1) * diff).mean(dim=-1)
        return _mean(per, mask, weight)
    if loss == "negbin":
        if scale is None:
            raise ValueError("compute_loss: the negbin loss needs each window's scale=")
        counts = torch.round(safe * scale).clamp(min=0)
        per = -distribution(loss, params, scale).log_prob(counts)
        return _mean(per, mask, weight)
    return _mean(-distribution(loss, params).log_prob(safe), mask, weight)


def distribution(
    loss: str, params: torch.Tensor, scale: torch.Tensor | None = None
) -> torch.distributions.Distribution:
    """The torch distribution of each target and step, from constrained ``params`` (..., P).

    For ``"negbin"`` the mean is multiplied by ``scale`` (the counts' own units).
    """
    D = torch.distributions
    if loss == "normal":
        return D.Normal(params[..., 0], params[..., 1], validate_args=False)
    if loss == "studentt":
        return D.StudentT(params[..., 2], params[..., 0], params[..., 1], validate_args=False)
    if loss == "negbin":
        mu = params[..., 0] * (scale if scale is not None else 1.0)
        r = 1.0 / params[..., 1]  # total count: alpha -> 0 is the Poisson limit
        return D.NegativeBinomial(
            total_count=r, logits=torch.log(mu) - torch.log(r), validate_args=False
        )
    raise ValueError(f"distribution: {loss!r} is not one of {DISTRIBUTIONS}")


def constrain(loss: str, raw: torch.Tensor) -> torch.Tensor:
    """Map unconstrained network outputs (..., P) onto valid parameters of ``loss``.

    Quantiles are the first output plus running sums of softplus increments: ordered by
    construction, so they never cross. Scales and dispersions are softplus (plus a floor),
    Student-t degrees of freedom ``2 + softplus`` (a finite variance), a negative binomial mean
    softplus (positive).

    Examples
    --------
    >>> q = constrain("quantile", torch.tensor([[0.0, -5.0, 3.0]]))
    >>> bool((q.diff(dim=-1) > 0).all())
    True
    """
    if loss in POINT:
        return raw
    if loss == "quantile":
        steps = F.softplus(raw[..., 1:]) + 1e-6
        return torch.cat([raw[..., :1], raw[..., :1] + steps.cumsum(dim=-1)], dim=-1)
    positive = F.softplus(raw) + 1e-4
    if loss == "normal":
        return torch.stack([raw[..., 0], positive[..., 1]], dim=-1)
    if loss == "studentt":
        return torch.stack([raw[..., 0], positive[..., 1], 2.0 + positive[..., 2]], dim=-1)
    if loss == "negbin":
        return positive
    raise ValueError(f"constrain: unknown loss {loss!r}; choose one of {LOSSES}")


def point_of(loss: str, params: torch.Tensor, median_index: int = 0) -> torch.Tensor:
    """The point forecast (…, P) -> (…): the prediction, the median quantile, or the mean."""
    if loss == "quantile":
        return params[..., median_index]
    return params[..., 0]  # point prediction, normal/Student-t location, negbin mean


def distribution_quantiles(
    loss: str, params: np.ndarray, levels: Sequence[float], scale: np.ndarray | None = None
) -> np.ndarray:
    """Exact quantiles ``(..., len(levels))`` of each forecast distribution, on numpy (scipy).

    ``params`` is ``(..., P)`` constrained; for ``"negbin"`` pass ``scale`` (``params[..., 0]``
    shaped) to get counts. Student-t and negative binomial quantiles are not in torch, hence
    scipy.
    """
    from scipy import stats

    q = np.asarray(levels, dtype=np.float64)
    p = params.astype(np.float64)[..., None, :]  # (..., 1, P) against (Q,)
    if loss == "normal":
        return stats.norm.ppf(q, loc=p[..., 0], scale=p[..., 1])
    if loss == "studentt":
        return stats.t.ppf(q, p[..., 2], loc=p[..., 0], scale=p[..., 1])
    if loss == "negbin":
        mu = p[..., 0] * (1.0 if scale is None else scale[..., None])
        r = 1.0 / p[..., 1]
        return stats.nbinom.ppf(q, r, r / (r + mu))
    raise ValueError(f"distribution_quantiles: {loss!r} is not one of {DISTRIBUTIONS}")

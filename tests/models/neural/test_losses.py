"""Losses: each equals its textbook formula, and unobserved targets get exactly zero gradient."""

import numpy as np
import pytest
import torch
from scipy import stats

from tsrnn.models.neural.losses import (
    LOSSES,
    compute_loss,
    constrain,
    distribution_quantiles,
    n_params,
)

QUANTILES = torch.tensor([0.1, 0.5, 0.9])


def random_case(loss, seed=0, B=4, H=3, T=2):
    g = torch.Generator().manual_seed(seed)
    raw = torch.randn(B, H, T, n_params(loss, len(QUANTILES)), generator=g)
    y = torch.randn(B, H, T, generator=g)
    if loss == "negbin":
        y = torch.randint(0, 20, (B, H, T), generator=g).float() / 4.0  # counts / scale 4
    mask = torch.rand(B, H, T, generator=g) > 0.3
    scale = torch.full((B, 1, T), 4.0)
    return raw, y, mask, scale


@pytest.mark.parametrize("loss", LOSSES)
def test_unobserved_targets_get_exactly_zero_gradient(loss):
    raw, y, mask, scale = random_case(loss)
    raw.requires_grad_(True)
    y = torch.where(mask, y, torch.nan)  # whatever sits there must not matter, NaN included
    value = compute_loss(loss, constrain(loss, raw), y, mask, quantiles=QUANTILES, scale=scale)
    value.backward()
    assert torch.isfinite(value)
    assert torch.all(raw.grad[~mask] == 0)
    assert torch.any(raw.grad[mask] != 0)


@pytest.mark.parametrize("loss", LOSSES)
def test_changing_an_unobserved_target_changes_nothing(loss):
    raw, y, mask, scale = random_case(loss, seed=1)
    params = constrain(loss, raw)
    other = torch.where(mask, y, y + 100.0)
    a = compute_loss(loss, params, y, mask, quantiles=QUANTILES, scale=scale)
    b = compute_loss(loss, params, other, mask, quantiles=QUANTILES, scale=scale)
    assert a.item() == b.item()


def observed(values, mask):
    return values[mask.numpy()]


@pytest.mark.parametrize("loss", LOSSES)
def test_each_loss_is_its_textbook_formula(loss):
    raw, y, mask, scale = random_case(loss, seed=2)
    p = constrain(loss, raw)
    got = compute_loss(loss, p, y, mask, quantiles=QUANTILES, scale=scale).item()
    P, Y = p.double().numpy(), y.double().numpy()
    if loss == "mse":
        per = (P[..., 0] - Y) ** 2
    elif loss == "mae":
        per = np.abs(P[..., 0] - Y)
    elif loss == "huber":
        d = np.abs(P[..., 0] - Y)
        per = np.where(d < 1, 0.5 * d**2, d - 0.5)
    elif loss == "quantile":
        q = QUANTILES.double().numpy()
        diff = Y[..., None] - P
        per = np.maximum(q * diff, (q - 1) * diff).mean(axis=-1)
    elif loss == "normal":
        per = -stats.norm.logpdf(Y, P[..., 0], P[..., 1])
    elif loss == "studentt":
        per = -stats.t.logpdf(Y, P[..., 2], P[..., 0], P[..., 1])
    else:  # negbin on counts y * scale, mean mu * scale
        mu, r = P[..., 0] * 4.0, 1.0 / P[..., 1]
        per = -stats.nbinom.logpmf(np.round(Y * 4.0), r, r / (r + mu))
    assert got == pytest.approx(observed(per, mask).mean(), rel=1e-5)


def test_nothing_observed_gives_zero_loss_not_nan():
    raw, y, mask, scale = random_case("mse")
    assert compute_loss("mse", raw, y, torch.zeros_like(mask)).item() == 0.0


def test_quantile_outputs_never_cross_whatever_the_raw_values():
    raw = torch.randn(1000, 5) * 50
    q = constrain("quantile", raw)
    assert torch.all(q.diff(dim=-1) >= 0)


def test_distribution_quantiles_match_scipy_and_are_ordered():
    params = constrain("studentt", torch.randn(7, 3)).numpy()
    q = distribution_quantiles("studentt", params, [0.05, 0.5, 0.95])
    assert q.shape == (7, 3)
    assert np.all(np.diff(q, axis=1) > 0)
    assert np.allclose(q[:, 1], params[:, 0])  # the median of a t is its location
    counts = distribution_quantiles("negbin", np.array([[2.0, 0.5]]), [0.5], scale=np.array([3.0]))
    r = 2.0
    assert counts[0, 0] == stats.nbinom.ppf(0.5, r, r / (r + 6.0))


@pytest.mark.parametrize("loss", LOSSES)
def test_a_weighted_loss_is_the_weighted_mean_of_the_observed_targets(loss):
    """Issue 27: relative loss weights. Each observed target counts its window's weight (the
    MSE's squared error its square, as the weight scales the errors); unit weights change
    nothing, and unobserved targets still get exactly zero gradient."""
    raw, y, mask, scale = random_case(loss, seed=3)
    raw.requires_grad_(True)
    p = constrain(loss, raw)
    weight = torch.tensor([0.1, 1.0, 0.5, 0.02]).view(4, 1, 1).expand(4, 1, 2)
    plain = compute_loss(loss, p, y, mask, quantiles=QUANTILES, scale=scale)
    ones = compute_loss(
        loss, p, y, mask, quantiles=QUANTILES, scale=scale, weight=torch.ones_like(weight)
    )
    got = compute_loss(loss, p, y, mask, quantiles=QUANTILES, scale=scale, weight=weight)
    assert ones.item() == pytest.approx(plain.item(), rel=1e-6)
    per = torch.stack(
        [
            compute_loss(
                loss,
                p[b : b + 1, :, t : t + 1],
                y[b : b + 1, :, t : t + 1],
                mask[b : b + 1, :, t : t + 1],
                quantiles=QUANTILES,
                scale=scale[b : b + 1, :, t : t + 1],
            )
            * mask[b, :, t].sum()
            for b in range(4)
            for t in range(2)
        ]
    ).view(4, 2)
    w = weight[:, 0] ** (2 if loss == "mse" else 1)
    counts = mask.sum(dim=1)  # (B, T) observed targets of each window and target
    expect = (per * w).sum() / (w * counts).sum()
    assert got.item() == pytest.approx(expect.item(), rel=1e-5)
    got.backward()
    assert torch.all(raw.grad[~mask] == 0)

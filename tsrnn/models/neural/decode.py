"""Forecasts from a trained network: point forecasts, quantiles and sample paths.

:class:`Decoder` runs the network over forecast windows in chunks and turns its outputs into
point forecasts and quantiles in the scalers' units, whatever the loss:

- point losses: normal intervals from the validation errors' spread per step
  (:func:`residual_std`, measured after training);
- ``"quantile"``: the trained levels, linearly interpolated between;
- distributions with the direct head: the distribution's own quantiles;
- distributions with the recursive head: DeepAR-style sample paths, each step's draw fed to
  the next, the point forecast from the mean path.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from tsrnn.data.scale import Scaler
from tsrnn.data.windows import Origins, Windows
from tsrnn.models.neural.losses import DISTRIBUTIONS, distribution, distribution_quantiles, point_of
from tsrnn.models.neural.nets import RecurrentNet
from tsrnn.models.neural.preprocess import WindowNorm

PREDICT_CHUNK = 4096  # forecast windows per pass: bounds memory, not the number of passes
MIN_ERRORS = 30  # point-loss intervals: fewer errors than this per step pool all steps'


@dataclass(frozen=True)
class Decoder:
    """How forecasts come out of ``net``.

    ``levels`` are the quantile head's trained levels; ``residual_std`` ``(H, T)`` the spread
    of the point forecasts' errors in normalized units (point losses; None otherwise).
    """

    net: RecurrentNet
    norm: WindowNorm
    levels: tuple[float, ...]
    num_samples: int
    residual_std: np.ndarray | None

    def forecast(
        self,
        windows: Windows,
        scalers: list[Scaler],
        rows: np.ndarray,
        spread: torch.Tensor,
        levels: list[float],
        origins: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Point forecasts ``(n, h, T)`` and quantiles ``(n, h, T, Q)`` in the scalers' units
        (window normalization undone), ``float64``, from ``origins`` ``(series, position)``
        (default: each series' end).

        ``rows[s]`` is series ``s``'s position among the fitted ones (-1: never seen), for
        the series embedding.
        """
        if origins is None:
            ends = windows.forecast_origins()
            origins = (np.arange(len(ends), dtype=np.int64), ends.pos.astype(np.int64))
        series_of, pos_of = origins
        n = len(series_of)
        h, T = windows.horizon, self.net.config.n_targets
        point = np.empty((n, h, T), dtype=np.float64)
        qs = np.empty((n, h, T, len(levels)), dtype=np.float64)
        device = windows.device
        series_scale = series_scales(scalers, device)  # (n, T)
        self.net.eval()
        with torch.no_grad():
            for lo in range(0, n, PREDICT_CHUNK):
                hi = min(lo + PREDICT_CHUNK, n)
                which = series_of[lo:hi]
                batch, x, loc, scale, ids, counts = self._inputs(
                    windows, which, pos_of[lo:hi], rows, spread, series_scale
                )
                p, q = self._outputs(x, batch.x_future, ids, levels, scale, counts)
                # Out of the network's float32 (onto the host: not every accelerator has
                # float64) before any location is added: the window's here, each series'
                # loc_ in Scaler.inverse_transform_array, both in float64.
                loc, scale = loc.cpu().double(), scale.cpu().double()
                point[lo:hi] = (p.cpu().double() * scale + loc).numpy()
                if levels:
                    qs[lo:hi] = (q.cpu().double() * scale.unsqueeze(-1) + loc.unsqueeze(-1)).numpy()
        return point, qs

    def paths(
        self,
        windows: Windows,
        scalers: list[Scaler],
        rows: np.ndarray,
        spread: torch.Tensor,
        n: int,
    ) -> np.ndarray:
        """``n`` DeepAR-style sample paths from each series' end (a recursive head with a
        distribution loss), ``(n_series, n, h, T)`` ``float64`` in the scalers' units."""
        ends = windows.forecast_origins()
        count = len(ends)
        h, T = windows.horizon, self.net.config.n_targets
        out = np.empty((count, n, h, T), dtype=np.float64)
        device = windows.device
        series_scale = series_scales(scalers, device)
        chunk = max(PREDICT_CHUNK // n, 1)  # windows per pass: n paths each
        self.net.eval()
        with torch.no_grad():
            for lo in range(0, count, chunk):
                hi = min(lo + chunk, count)
                which = np.arange(lo, hi)
                batch, x, loc, scale, ids, counts = self._inputs(
                    windows, which, ends.pos[lo:hi].astype(np.int64), rows, spread, series_scale
                )
                _, state, emb = self.net.encode(x, ids)
                start, seen = self.net.last_inputs(x)
                drawn = self._draw_paths(
                    state, emb, start, seen, batch.x_future, n, scale * counts
                )  # (B, n, h, T)
                loc, scale = loc.cpu().double().unsqueeze(1), scale.cpu().double().unsqueeze(1)
                out[lo:hi] = (drawn.cpu().double() * scale + loc).numpy()
        return out

    def _inputs(
        self,
        windows: Windows,
        which: np.ndarray,
        pos: np.ndarray,
        rows: np.ndarray,
        spread: torch.Tensor,
        series_scale: torch.Tensor,
    ) -> tuple:
        """One chunk's windows, normalized: the batch, its inputs, the window location and
        scale (0 and 1 without window normalization), each series' embedding row and its
        count scale (B, 1, T)."""
        batch = windows.gather(which, pos)
        x, _, _, loc, scale = self.norm(batch, spread)
        if loc is None:
            shape = (len(which), 1, self.net.config.n_targets)
            loc = torch.zeros(shape, device=windows.device)
            scale = torch.ones(shape, device=windows.device)
        ids = torch.as_tensor(rows[which], device=windows.device)
        counts = series_scale[torch.as_tensor(which, device=windows.device)].unsqueeze(1)
        return batch, x, loc, scale, ids, counts

    def _outputs(
        self,
        x: torch.Tensor,
        x_future: torch.Tensor,
        ids: torch.Tensor,
        levels: list[float],
        scale: torch.Tensor,
        series_scale: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalized point forecasts ``(B, h, T)`` and quantiles ``(B, h, T, Q)``."""
        net, c = self.net, self.net.config
        loss = c.loss
        if loss in DISTRIBUTIONS and c.head == "recursive":
            return self._sample_quantiles(x, x_future, ids, levels, scale * series_scale)
        params = net(x, x_future, ids).float()  # (B, h, T, P)
        point = point_of(loss, params, c.median_index)
        if not levels:
            return point, point.new_zeros(*point.shape, 0)
        if loss == "quantile":
            trained = torch.tensor(self.levels, device=params.device)
            return point, interpolate(params, trained, levels)
        if loss in DISTRIBUTIONS:
            total = (scale * series_scale).expand_as(point).cpu().double().numpy()
            qs = distribution_quantiles(loss, params.cpu().numpy(), levels, scale=total)
            if loss == "negbin":
                qs = qs / total[..., None]  # counts back to normalized units
            return point, torch.as_tensor(qs, dtype=torch.float32, device=params.device)
        from scipy.stats import norm

        std = torch.as_tensor(step_std(self.residual_std, point.shape[1]), device=params.device)
        z = torch.tensor(norm.ppf(levels), dtype=torch.float32, device=params.device)
        return point, point.unsqueeze(-1) + std.unsqueeze(-1).float() * z

    def _sample_quantiles(
        self,
        x: torch.Tensor,
        x_future: torch.Tensor,
        ids: torch.Tensor,
        levels: list[float],
        total_scale: torch.Tensor,  # (B, 1, T): negbin counts = normalized values * this
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """DeepAR-style: the mean path for the point forecast, sample paths for quantiles."""
        net, loss = self.net, self.net.config.loss
        _, state, emb = net.encode(x, ids)
        start, seen = net.last_inputs(x)

        def feed_mean(t: int, params_t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return point_of(loss, params_t), torch.ones_like(start)

        mean = point_of(loss, net.unroll(state, start, seen, x_future, emb, feed_mean))
        if not levels:
            return mean, mean.new_zeros(*mean.shape, 0)
        paths = self._draw_paths(state, emb, start, seen, x_future, self.num_samples, total_scale)
        q = torch.tensor(levels, dtype=paths.dtype, device=paths.device)
        qs = torch.quantile(paths, q, dim=1).permute(1, 2, 3, 0)  # (B, h, T, Q)
        return mean, qs

    def _draw_paths(
        self,
        state: torch.Tensor | tuple[torch.Tensor, torch.Tensor],
        emb: torch.Tensor | None,
        start: torch.Tensor,  # (B, T)
        seen: torch.Tensor,  # (B, T)
        x_future: torch.Tensor,  # (B, h, Ff)
        S: int,
        total_scale: torch.Tensor,  # (B, 1, T): negbin counts = normalized values * this
    ) -> torch.Tensor:
        """``S`` sample paths per window, each step's draw fed to the next, ``(B, S, h, T)``
        in normalized units."""
        net, loss = self.net, self.net.config.loss
        rep = lambda t: t.repeat_interleave(S, dim=0)  # noqa: E731 - (B, ...) -> (B*S, ...)
        rep_state = lambda t: t.repeat_interleave(S, dim=1)  # noqa: E731 - (layers, B, hidden)
        state_s = (
            tuple(rep_state(s) for s in state) if isinstance(state, tuple) else rep_state(state)
        )
        emb_s = None if emb is None else rep(emb)
        scale_s = rep(total_scale[:, 0])  # (B*S, T)
        draws: list[torch.Tensor] = []

        def feed_sample(t: int, params_t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            draw = distribution(loss, params_t, scale_s if loss == "negbin" else None).sample()
            if loss == "negbin":
                draw = draw / scale_s  # counts back to normalized units
            draws.append(draw)  # the path's value at step t, fed to step t + 1
            return draw, torch.ones_like(draw)

        net.unroll(state_s, rep(start), rep(seen), rep(x_future), emb_s, feed_sample)
        return torch.stack(draws, dim=1).view(len(start), S, len(draws), -1)


@dataclass(frozen=True)
class _Points:
    """One batch of validation windows, normalized, with the network's point forecasts."""

    x: torch.Tensor  # (B, L, F) inputs
    y: torch.Tensor  # (B, H, T) targets
    mask: torch.Tensor  # (B, H, T) observed targets
    point: torch.Tensor  # (B, H, T) float32 forecasts
    loc: torch.Tensor | None  # (B, 1, T) the window normalization (None without one)
    scale: torch.Tensor | None
    series: torch.Tensor  # (B,) each window's series


@torch.no_grad()  # on a generator: each step runs without gradients, not the caller's loop
def _validation_points(
    net: RecurrentNet,
    norm: WindowNorm,
    windows: Windows,
    origins: Origins,
    spread: torch.Tensor,
    batch_size: int,
) -> Iterator[_Points]:
    """Per batch of ``origins``, without gradients: the normalized windows and the network's
    point forecasts."""
    for batch in windows.batches(origins, batch_size):
        x, y, mask, loc, scale = norm(batch, spread)
        point = point_of(net.config.loss, net(x, batch.x_future, batch.series).float())
        yield _Points(x, y, mask, point, loc, scale, batch.series)


def residual_std(
    net: RecurrentNet,
    norm: WindowNorm,
    windows: Windows,
    origins: Origins,
    spread: torch.Tensor,
    batch_size: int,
) -> np.ndarray:
    """Spread of the point forecasts' errors over ``origins``, normalized units, ``(H, T)``.

    Root mean squared error per step and target where each step has at least
    :data:`MIN_ERRORS` errors; otherwise one pooled value over all steps (a single series'
    one validation window gives one error per step: too few to tell steps apart).
    """
    H, T = net.config.horizon, net.config.n_targets
    total = torch.zeros(H, T, dtype=torch.float64)
    count = torch.zeros(H, T, dtype=torch.float64)
    for b in _validation_points(net, norm, windows, origins, spread, batch_size):
        err = torch.where(b.mask, b.point - b.y, 0.0) ** 2
        total += err.sum(dim=0).double().cpu()
        count += b.mask.sum(dim=0).double().cpu()
    return _step_spread(total, count)


def _step_spread(total: torch.Tensor, count: torch.Tensor) -> np.ndarray:
    """From the squared errors' sums and counts per step and target ``(H, T)``: their root
    mean per step where each step has :data:`MIN_ERRORS` errors, else pooled over steps."""
    per_step = torch.sqrt(total / count.clamp(min=1))
    pooled = torch.sqrt(total.sum(dim=0) / count.sum(dim=0).clamp(min=1))  # (T,)
    return torch.where(count >= MIN_ERRORS, per_step, pooled).numpy()


THETA_WEIGHTS = np.linspace(0.0, 1.0, 21)  # the shares of Theta's forecast tried

# Where the partner alone (Theta, the damped trend) is about as good as the network alone on
# the validation tail (its loss within this factor of the network's, either way), the fitted
# share moves half-way to equal weights: between two near-equal forecasts the tail's best share
# is mostly noise, and an even mix is the safer bet (the forecast combination puzzle). On M3
# quarterly and yearly, whose tails give ratios of 1.00-1.14, that gains 2-4 % at a second
# origin for 0.1-1 % at the official one; M4 Hourly's partners (2.0-2.3) keep their fitted
# shares (benchmarks/RESULTS.md, issue 27).
EVEN_RATIO = 1.5


def settled_share(relative: torch.Tensor) -> float:
    """The share of :data:`THETA_WEIGHTS` with the lowest of the ``relative`` losses (one per
    share, over the network's alone; the lowest share wins ties), moved half-way to 0.5 where
    the partner's loss alone (the last) is within :data:`EVEN_RATIO` of the network's."""
    share = float(THETA_WEIGHTS[int(torch.argmin(relative))])
    if 1 / EVEN_RATIO <= float(relative[-1]) <= EVEN_RATIO:
        share = 0.5 * share + 0.25
    return share


def damped_weight(
    net: RecurrentNet,
    norm: WindowNorm,
    windows: Windows,
    origins: Origins,
    spread: torch.Tensor,
    batch_size: int,
    damped: torch.Tensor,
) -> tuple[float, np.ndarray, np.ndarray]:
    """The share ``v`` of each series' damped-trend forecast in the point forecast ``(1 - v) *
    network + v * damped`` with the lowest loss over ``origins`` (one per series: the first of
    its validation tail), as :func:`theta_weight` fits Theta's; with each share's loss relative
    to the network's alone, and :func:`residual_std` of the combined forecast.

    ``damped`` ``(n_series, H)`` holds each series' forecast from its origin, fitted on the
    points before it, in the scaled units the windows hold (``nan`` where it has none: those
    windows keep the network's forecast).
    """
    c = net.config
    H = c.horizon
    losses = torch.zeros(len(THETA_WEIGHTS), dtype=torch.float64)
    w = torch.as_tensor(THETA_WEIGHTS, dtype=torch.float32).view(-1, 1, 1)
    kept = []  # (network, damped, y, mask) per batch, for the combined forecast's spread
    for b in _validation_points(net, norm, windows, origins, spread, batch_size):
        point, y, mask = b.point[..., 0], b.y[..., 0], b.mask[..., 0]  # y alone: (B, H)
        d = damped[b.series.long().cpu()].to(point.device)  # scaled units
        if b.loc is not None:
            d = (d - b.loc[:, :, 0]) / b.scale[:, :, 0]
        have = ~torch.isnan(d)
        d = torch.where(have, d, point)
        w = w.to(point.device)
        err = (1 - w) * point + w * d - y  # (W, B, H)
        err = err.abs() if c.loss != "mse" else err**2
        losses += torch.where(mask & have, err, 0.0).sum(dim=(1, 2)).double().cpu()
        kept.append((point, d, y, mask))
    relative = losses / losses[0].clamp(min=1e-300)
    share = settled_share(relative)
    total = torch.zeros(H, 1, dtype=torch.float64)  # y alone: one target
    count = torch.zeros(H, 1, dtype=torch.float64)
    for point, d, y, mask in kept:
        err = torch.where(mask, (1 - share) * point + share * d - y, 0.0) ** 2
        total[:, 0] += err.sum(dim=0).double().cpu()
        count[:, 0] += mask.sum(dim=0).double().cpu()
    return share, relative.numpy(), _step_spread(total, count)


def theta_weight(
    net: RecurrentNet,
    norm: WindowNorm,
    windows: Windows,
    origins: Origins,
    spread: torch.Tensor,
    batch_size: int,
) -> tuple[float, np.ndarray]:
    """The share ``w`` of Theta's forecast (the Theta input's candidate) in the point forecast
    ``(1 - w) * network + w * Theta`` with the lowest loss (absolute errors; squared for
    ``loss="mse"``) over ``origins`` (the validation tail: forecasts the network was not
    trained on), from :data:`THETA_WEIGHTS` (:func:`settled_share`: half-way to an even mix
    where Theta alone is about as good as the network alone); with each share's loss,
    relative to the network's alone. The lowest share wins ties, so 0 where the combination
    does not pay and Theta alone is much worse.
    """
    c = net.config
    a = c.theta[0]
    losses = torch.zeros(len(THETA_WEIGHTS), dtype=torch.float64)
    w = torch.as_tensor(THETA_WEIGHTS, dtype=torch.float32).view(-1, 1, 1, 1)
    for b in _validation_points(net, norm, windows, origins, spread, batch_size):
        theta = b.x[:, -1, a : a + b.y.shape[1]].float().unsqueeze(-1)  # (B, H, 1): Theta's path
        w = w.to(b.point.device)
        err = (1 - w) * b.point + w * theta - b.y  # (W, B, H, T)
        err = err.abs() if c.loss != "mse" else err**2
        losses += torch.where(b.mask, err, 0.0).sum(dim=(1, 2, 3)).double().cpu()
    relative = losses / losses[0].clamp(min=1e-300)
    return settled_share(relative), relative.numpy()


def series_scales(scalers: list[Scaler], device: torch.device) -> torch.Tensor:
    """(n_series, T) each target's per-series scale, for count likelihoods."""
    return torch.tensor(
        np.stack([s.scale_ for s in scalers], axis=1), dtype=torch.float32, device=device
    )


def interpolate(params: torch.Tensor, trained: torch.Tensor, levels: list[float]) -> torch.Tensor:
    """Quantiles at ``levels`` by linear interpolation between trained levels (..., Q)."""
    out = []
    for q in levels:
        k = int(
            torch.searchsorted(trained, torch.tensor(q, device=trained.device)).clamp(
                1, len(trained) - 1
            )
        )
        lo, hi = trained[k - 1], trained[k]
        w = ((q - lo) / (hi - lo)).clamp(0, 1)
        out.append(params[..., k - 1] * (1 - w) + params[..., k] * w)
    return torch.stack(out, dim=-1)


def step_std(std: np.ndarray, h: int) -> np.ndarray:
    """The validation error's spread for ``h`` steps (H, T) -> (h, T); past the validated
    steps (a recursive head asked for more) it widens like a random walk from the last one."""
    H = len(std)
    if h <= H:
        return std[:h]
    growth = np.sqrt(np.arange(H + 1, h + 1) / H)[:, None]
    return np.concatenate([std, std[-1] * growth])

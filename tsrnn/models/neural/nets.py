"""The recurrent network behind every neural forecaster: one module for RNN, LSTM and GRU.

An encoder reads an input window of ``L`` steps (the scaled value, its observed flag, the time
since the last observation, covariates, calendar) with torch's fused ``nn.RNN`` / ``nn.LSTM`` /
``nn.GRU``: one kernel call over the whole window, never a Python loop over its steps. A head
turns the encoder's final state into ``H`` steps of ``P`` numbers for each of ``T`` targets:

- ``"direct"`` (MIMO, the default): a linear map of the final hidden state gives a context
  vector for each horizon step; a small per-step network reads it with that step's known-future
  features (calendar, future covariates). All ``H`` steps come out at once, so errors do not
  compound and training and prediction run the same code. Optionally each step also reads the
  naive value of its targets and their seasonal naive values for one or more seasons
  (``seasons``, e.g. a day and a week), with them Theta's forecast made at the window's end
  from the series' whole history (``theta``: input columns the data path fills,
  :mod:`~tsrnn.models.neural.thetabase`), and forecasts the change from a learned blend of them
  (``skip``); and training may forecast from many steps of each window at once
  (:meth:`RecurrentNet.forward_every`).
- ``"recursive"``: a decoder RNN of the same cell starts from the encoder's state and steps
  through the horizon, reading the previous step's target (and whether it was observed) with the
  step's known-future features. Training feeds it the true previous target (teacher forcing), all
  steps in one fused call; with ``scheduled_sampling > 0`` each step is fed the network's own
  previous prediction with that probability (Bengio et al. 2015), which needs a loop over the
  ``H`` steps. Prediction always loops, feeding back point forecasts or, for DeepAR-style
  sample paths (Salinas et al. 2020), draws from the predicted distribution.

The cells are the standard ones as torch implements them: the Elman RNN with ``tanh``, the LSTM
of Hochreiter & Schmidhuber (1997) with the forget gate of Gers, Schmidhuber & Cummins (2000)
(a cell state ``c_t = f_t * c_{t-1} + i_t * g_t`` and ``h_t = o_t * tanh(c_t)``), and the GRU of
Cho et al. (2014). (The article tsrnn started from writes the LSTM without a cell state and the
RNN with a sigmoid; neither is what anyone trains.)

An optional learned embedding of the series id is appended to every input step of a global
model; a series the network never saw gets the mean of the learned embeddings. Static
attributes of the series arrive as the last input columns of every step and of every horizon
step (:class:`~tsrnn.data.windows.Windows`), so the network needs nothing of its own for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from tsrnn.models.neural.losses import constrain, point_of

CELLS = ("rnn", "lstm", "gru")
HEADS = ("direct", "recursive")


@dataclass(frozen=True)
class NetConfig:
    """Everything that fixes a :class:`RecurrentNet`'s shape (saved with the weights)."""

    cell: str  # "rnn" (cheapest, forgets fastest), "lstm" (gated memory), "gru" (LSTM-like, ~3/4 cost)
    n_features: int  # F: input columns per step (Windows.feature_names)
    n_future: int  # Ff: known-future columns per horizon step (Windows.future_names)
    horizon: int  # H: steps of the direct head's output (the recursive head loops any length)
    n_targets: int = 1  # T: targets forecast jointly; target j reads input column target_columns[j]
    target_columns: tuple[int, ...] = (0,)
    observed_columns: tuple[int, ...] = (1,)  # input column of each target's observed flag
    hidden_size: int = 64  # width of the recurrent state: capacity against speed and overfitting
    num_layers: int = 2  # stacked recurrent layers; depth past 2-3 rarely pays on short windows
    dropout: float = 0.0  # between stacked layers only (torch's semantics); 0 with one layer
    head: str = "direct"  # "direct" (all H steps at once) or "recursive" (a decoder over steps)
    loss: str = "mse"  # what the outputs mean: point, "quantile" or a distribution (losses.py)
    n_params: int = 1  # P: outputs per target and step
    median_index: int = 0  # which quantile output is the median (point forecast)
    n_series: int = 0  # rows of the series-id embedding (0: none)
    embedding_size: int = 0  # width of the series-id embedding; small (4-16) is plenty
    context_size: int = 32  # direct head: width of each horizon step's context vector
    # Direct head: each step also reads its targets' naive value (the last input) and, for each
    # of these seasons, its seasonal naive value (the input a whole number of seasons before
    # the step), with their observed flags; () for none ...
    seasons: tuple[int, ...] = ()
    # ... each seasonal naive value moved by the level's change since a season before: the
    # mean of the window's last w steps less the mean of the w steps a season earlier, w the
    # shorter of season and horizon (False: as read; model files before it)
    relevel: bool = False
    skip: bool = False  # ... and forecasts the change from a learned per-step blend of them
    # ... and, with the seasons, Theta's forecast from the window's end (a candidate of the
    # blend too): its H input columns, in y's units (start, stop); (0, 0) for none
    theta: tuple[int, int] = (0, 0)
    # ... and a point forecast's share given to that Theta forecast after training (the
    # combination fitted on the validation tail: decode.theta_weight); 0 while training
    theta_weight: float = 0.0
    # the window's last steps the encoder reads (0: all); the naive inputs read the whole
    # window, so a long season's values need no long recurrence
    encoder_steps: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


class RecurrentNet(nn.Module):
    """Encoder (fused RNN/LSTM/GRU) plus a direct or recursive head; see the module notes.

    Examples
    --------
    >>> config = NetConfig(cell="gru", n_features=3, n_future=2, horizon=4, hidden_size=8)
    >>> net = RecurrentNet(config)
    >>> params = net(torch.zeros(5, 12, 3), torch.zeros(5, 4, 2), torch.zeros(5, dtype=torch.long))
    >>> tuple(params.shape)  # (B, H, T, P)
    (5, 4, 1, 1)
    """

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        if config.cell not in CELLS:
            raise ValueError(f"RecurrentNet: cell={config.cell!r}; choose one of {CELLS}")
        if config.head not in HEADS:
            raise ValueError(f"RecurrentNet: head={config.head!r}; choose one of {HEADS}")
        if not len(config.target_columns) == len(config.observed_columns) == config.n_targets:
            raise ValueError(
                "RecurrentNet: target_columns and observed_columns need one entry per target "
                f"(n_targets={config.n_targets})"
            )
        self.config = c = config
        # The targets' value and observed-flag columns of x as index tensors that move with the
        # module: indexing with a Python list copies it to the device, and so waits for it,
        # at every step (not saved: the config holds them).
        columns = (*c.target_columns, *c.observed_columns)
        self.register_buffer("columns", torch.tensor(columns, dtype=torch.long), persistent=False)
        rnn = getattr(nn, c.cell.upper())  # nn.RNN (tanh), nn.LSTM or nn.GRU: fused kernels
        E = c.embedding_size if c.n_series else 0
        self.embedding = nn.Embedding(c.n_series, E) if E else None
        dropout = c.dropout if c.num_layers > 1 else 0.0
        self.encoder = rnn(
            c.n_features + E, c.hidden_size, c.num_layers, batch_first=True, dropout=dropout
        )
        out = c.n_targets * c.n_params
        if c.head == "direct":
            self.context = nn.Linear(c.hidden_size, c.horizon * c.context_size)
            K = len(c.seasons) + (1 if c.seasons and c.theta[1] else 0)
            width = c.context_size + c.n_future + E + (2 * (K + 1) * c.n_targets if K else 0)
            if K and c.skip:
                # logits of each step's blend of the K seasonal naive values and the naive one
                # (softmax: equal weights at the start)
                self.blend = nn.Parameter(torch.zeros(c.horizon, c.n_targets, K + 1))
            self.output = nn.Sequential(
                nn.Linear(width, c.hidden_size), nn.ReLU(), nn.Linear(c.hidden_size, out)
            )
        else:
            # Decoder input per step: previous targets and their observed flags, future features.
            self.decoder = rnn(
                2 * c.n_targets + c.n_future + E,
                c.hidden_size,
                c.num_layers,
                batch_first=True,
                dropout=dropout,
            )
            self.output = nn.Linear(c.hidden_size, out)

    # ------------------------------------------------------------------ pieces
    def _embed(self, series: torch.Tensor) -> torch.Tensor | None:
        """(B,) series index -> (B, E); index -1 (an unseen series) gets the mean embedding."""
        if self.embedding is None:
            return None
        known = series.clamp(min=0)
        vectors = self.embedding(known)  # (B, E)
        mean = self.embedding.weight.mean(dim=0).expand_as(vectors)
        return torch.where((series >= 0).unsqueeze(-1), vectors, mean)

    def _params(self, raw: torch.Tensor) -> torch.Tensor:
        """(B, H, T*P) -> constrained (B, H, T, P)."""
        B, H, _ = raw.shape
        return constrain(self.config.loss, raw.view(B, H, self.config.n_targets, -1))

    def _encoded(
        self, x: torch.Tensor, series: torch.Tensor
    ) -> tuple[
        torch.Tensor, torch.Tensor | tuple[torch.Tensor, torch.Tensor], torch.Tensor | None, int
    ]:
        """The encoder over the window's last ``encoder_steps`` (all where 0; the seasonal
        naive inputs read every step): its outputs (B, L - skipped, hidden), the full state,
        the embedding (B, E) or None, and the first steps it skipped."""
        emb = self._embed(series)
        E, L = self.config.encoder_steps, x.shape[1]
        skipped = L - E if 0 < E < L else 0
        read = x[:, skipped:]
        if emb is not None:
            read = torch.cat([read, emb.unsqueeze(1).expand(-1, L - skipped, -1)], dim=-1)
        out, state = self.encoder(read)
        return out, state, emb, skipped

    def encode(
        self, x: torch.Tensor, series: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | tuple[torch.Tensor, torch.Tensor], torch.Tensor | None]:
        """Final hidden state of the top layer (B, hidden), the full state, the embedding."""
        out, state, emb, _ = self._encoded(x, series)
        return out[:, -1], state, emb

    # ------------------------------------------------------------------ forward
    def forward(
        self,
        x: torch.Tensor,  # (B, L, F)
        x_future: torch.Tensor,  # (B, H, Ff)
        series: torch.Tensor,  # (B,) int64, -1 for a series the net never saw
        y_prev: torch.Tensor | None = None,  # (B, H, T) teacher targets (recursive training)
        mask_prev: torch.Tensor | None = None,  # (B, H, T) bool, where y_prev was observed
        sampling: float = 0.0,  # scheduled sampling: chance of feeding back the prediction
    ) -> torch.Tensor:
        """Constrained output parameters, (B, H, T, P)."""
        last, state, emb = self.encode(x, series)
        B, H = x_future.shape[:2]
        c = self.config
        if c.head == "direct":
            if c.horizon < H:
                raise ValueError(f"direct head: trained for {c.horizon} steps, asked for {H}")
            end = torch.full((1,), x.shape[1] - 1, device=x.device)
            lagged = self._lagged(x, end, H) if c.seasons else None  # (B, 1, H, 2(K+1)T)
            return self._direct(last.unsqueeze(1), x_future.unsqueeze(1), lagged, emb)[:, 0]
        start, seen = self.last_inputs(x)
        if y_prev is not None and sampling == 0.0:
            # Teacher forcing: the inputs of step t are the true targets of step t - 1.
            prev = torch.cat([start.unsqueeze(1), y_prev[:, :-1]], dim=1)  # (B, H, T)
            flags = torch.cat([seen.unsqueeze(1), mask_prev[:, :-1].to(x.dtype)], dim=1)
            inputs = self._decoder_inputs(prev, flags, x_future, emb)  # (B, H, 2T+Ff+E)
            out, _ = self.decoder(inputs, state)  # (B, H, hidden)
            return self._params(self.output(out))

        def choose(t: int, params_t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            pred = point_of(c.loss, params_t, c.median_index).detach()  # (B, T)
            if y_prev is None:
                return pred, torch.ones_like(pred)
            use_truth = torch.rand(B, 1, device=x.device) >= sampling
            use_truth = use_truth & mask_prev[:, t]
            return torch.where(use_truth, y_prev[:, t], pred), torch.ones_like(pred)

        return self.unroll(state, start, seen, x_future, emb, choose)

    def forward_every(
        self,
        x: torch.Tensor,  # (B, L, F)
        x_future: torch.Tensor,  # (B, H, Ff)
        series: torch.Tensor,  # (B,)
        y: torch.Tensor,  # (B, H, T) targets after the window
        mask: torch.Tensor,  # (B, H, T) bool
        positions: torch.Tensor,  # (S,) int64 input steps to forecast from, each among the
        # steps the encoder reads (the last ``encoder_steps`` of the window, or all L)
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Direct head, training: a forecast of the ``H`` steps after each of ``positions``.

        The encoder's state at input step ``t`` has read no step after ``t``, so it forecasts
        ``t + 1 .. t + H`` exactly as the final state forecasts the window's horizon: one pass
        over the window trains ``S`` forecasts (the recurrent training of NeuralForecast's
        RNNs). Targets inside the window are its observed inputs; known-future features come
        from the input steps and ``x_future``.

        Returns the parameters (B, S, H, T, P) and their targets and mask (B, S, H, T).
        """
        c = self.config
        if c.head != "direct":
            raise ValueError("forward_every needs the direct head")
        B, L, F = x.shape
        H = c.horizon
        out, _, emb, skipped = self._encoded(x, series)  # positions among the steps read

        def after(seq: torch.Tensor) -> torch.Tensor:
            """(B, L + H, K) -> (B, S, H, K): the H steps after each position."""
            return seq.unfold(1, H, 1)[:, positions + 1].transpose(-1, -2)

        future = after(torch.cat([x[..., F - c.n_future :], x_future], dim=1))  # (B, S, H, Ff)
        lagged = self._lagged(x, positions, H) if c.seasons else None  # (B, S, H, 2(K+1)T)
        params = self._direct(out[:, positions - skipped], future, lagged, emb)
        values, flags = x.index_select(-1, self.columns).tensor_split(2, dim=-1)  # (B, L, T)
        targets = after(torch.cat([values, y], dim=1))
        seen = flags > 0.5
        return params, targets, after(torch.cat([seen, mask], dim=1))

    def _direct(
        self,
        states: torch.Tensor,  # (B, S, hidden) encoder states to forecast from
        future: torch.Tensor,  # (B, S, H, Ff) known-future features of the steps after each
        lagged: torch.Tensor | None,  # (B, S, H, 2(K+1)T) naive inputs (K seasons)
        emb: torch.Tensor | None,  # (B, E)
    ) -> torch.Tensor:
        """The direct head: constrained parameters (B, S, H, T, P) of the H <= horizon steps
        after each state."""
        c = self.config
        (B, S), H = states.shape[:2], future.shape[2]
        ctx = self.context(states).view(B, S, c.horizon, c.context_size)[:, :, :H]
        parts = [ctx, future]
        if lagged is not None:
            parts.append(lagged)
        if emb is not None:
            parts.append(emb.view(B, 1, 1, -1).expand(B, S, H, -1))
        raw = self.output(torch.cat(parts, dim=-1)).view(B, S, H, c.n_targets, -1)
        return constrain(c.loss, self._skip(raw, lagged))

    def _skip(self, raw: torch.Tensor, lagged: torch.Tensor | None) -> torch.Tensor:
        """With ``skip``: each target's first raw output (the point, lowest quantile or
        location) becomes the change from its step's blend of the seasonal naive and naive
        values, (..., H, T, P)."""
        if lagged is None or not self.config.skip:
            return raw
        T, H = self.config.n_targets, raw.shape[-3]
        w = torch.softmax(self.blend[:H], dim=-1)  # (H, T, K+1)
        values = lagged.unflatten(-1, (-1, 2, T))[..., 0, :]  # (..., H, K+1, T)
        base = (values.transpose(-1, -2) * w).sum(dim=-1)  # (..., H, T)
        first = raw[..., :1] + base.unsqueeze(-1)
        share = self.config.theta_weight
        if share and self.config.theta[1]:  # the point forecast combined with Theta's
            theta = values[..., len(self.config.seasons), :].unsqueeze(-1)  # (..., H, T, 1)
            first = (1 - share) * first + share * theta
        return torch.cat([first, raw[..., 1:]], dim=-1)

    def _lagged(self, x: torch.Tensor, ends: torch.Tensor, H: int) -> torch.Tensor:
        """For forecasts from input steps ``ends`` (S,), each horizon step's seasonal naive and
        naive inputs, (B, S, H, 2(K+1)T): for each season, the targets and their observed flags
        at the latest input step a whole number of seasons before the step (0 where that lies
        before the window); with ``theta``, Theta's forecast of the step made at ``ends`` (one
        target), flagged by whether that step was observed; then the targets and flags at the
        step ``ends`` itself."""
        j = torch.arange(1, H + 1, device=x.device)
        columns = self.columns
        parts = []
        for m in self.config.seasons:
            lag = ends.unsqueeze(1) + j - m * torch.div(j + m - 1, m, rounding_mode="floor")
            inside = (lag >= 0).to(x.dtype).unsqueeze(-1)  # (S, H, 1)
            at = x[:, lag.clamp(min=0)].index_select(-1, columns)  # (B, S, H, 2T)
            if self.config.relevel and m > 1:  # a season of 1 is the naive value itself
                T = len(self.config.target_columns)
                shift = self._level_change(x, ends, m, min(m, H)).unsqueeze(2)  # (B, S, 1, T)
                at = torch.cat([at[..., :T] + shift, at[..., T:]], dim=-1)
            parts.append(at * inside)
        if self.config.theta[1]:  # Theta's path from each end: (B, S, H), with y's flag
            a, b = self.config.theta
            paths = x[:, ends, a:b][..., :H].unsqueeze(-1)  # (B, S, H, 1)
            seen = x[:, ends][..., self.config.observed_columns[0]]  # (B, S)
            parts.append(torch.cat([paths, seen[..., None, None].expand_as(paths)], dim=-1))
        parts.append(x[:, ends].index_select(-1, columns).unsqueeze(2).expand_as(parts[0]))
        return torch.cat(parts, dim=-1)

    def _level_change(self, x: torch.Tensor, ends: torch.Tensor, m: int, w: int) -> torch.Tensor:
        """Each target's level change over a season at input steps ``ends`` (S,): the mean of
        the ``w`` steps up to each end less the mean of the ``w`` steps a season before,
        (B, S, T); 0 where the window does not reach that far back."""
        T = len(self.config.target_columns)
        values = x.index_select(-1, self.columns[:T])  # (B, L, T), gaps as imputed
        sums = torch.nn.functional.pad(values.cumsum(dim=1), (0, 0, 1, 0))  # (B, L + 1, T)
        stop = ends + 1

        def mean(last: torch.Tensor) -> torch.Tensor:  # of the w steps before ``last``
            return (sums[:, last.clamp(min=0)] - sums[:, (last - w).clamp(min=0)]) / w

        reach = (stop - m - w >= 0).to(x.dtype)[None, :, None]  # (1, S, 1)
        return (mean(stop) - mean(stop - m)) * reach

    def last_inputs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The decoder's first inputs: each target's last input value and its observed flag,
        each (B, T)."""
        last = x[:, -1].index_select(-1, self.columns)  # (B, 2T): values, then flags
        return last.tensor_split(2, dim=-1)

    def unroll(
        self,
        state: torch.Tensor | tuple[torch.Tensor, torch.Tensor],
        start: torch.Tensor,  # (B, T) target values before the first step
        seen: torch.Tensor,  # (B, T) their observed flags
        x_future: torch.Tensor,  # (B, H, Ff)
        emb: torch.Tensor | None,  # (B, E)
        choose: Callable[[int, torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
    ) -> torch.Tensor:
        """Step the decoder through the horizon; ``choose(t, params_t)`` gives the next input.

        Returns the constrained parameters of every step, (B, H, T, P).
        """
        prev, flags, steps = start, seen, []
        for t in range(x_future.shape[1]):
            inputs = self._decoder_inputs(
                prev.unsqueeze(1), flags.unsqueeze(1), x_future[:, t : t + 1], emb
            )  # (B, 1, 2T+Ff+E)
            out, state = self.decoder(inputs, state)  # (B, 1, hidden)
            params_t = self._params(self.output(out))[:, 0]  # (B, T, P)
            steps.append(params_t)
            prev, flags = choose(t, params_t)
        return torch.stack(steps, dim=1)  # (B, H, T, P)

    def _decoder_inputs(
        self,
        prev: torch.Tensor,  # (B, S, T)
        flags: torch.Tensor,  # (B, S, T)
        x_future: torch.Tensor,  # (B, S, Ff)
        emb: torch.Tensor | None,  # (B, E)
    ) -> torch.Tensor:
        parts = [prev, flags.to(prev.dtype), x_future]
        if emb is not None:
            parts.append(emb.unsqueeze(1).expand(-1, prev.shape[1], -1))
        return torch.cat(parts, dim=-1)


class MeanNet(nn.Module):
    """The mean of the outputs of networks of one shape (``forward`` alone): where those
    outputs are forecasts (a point loss) or quantiles, the mean of their forecasts."""

    def __init__(self, nets: list[RecurrentNet]) -> None:
        super().__init__()
        self.nets = nn.ModuleList(nets)

    @property
    def config(self) -> NetConfig:
        return self.nets[0].config

    def forward(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        return torch.stack([net(*args, **kwargs) for net in self.nets]).mean(dim=0)

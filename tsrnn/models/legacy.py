"""Model files written before the state contract (formats 1 and 2: tsrnn 0.1.0 to commit 3430968).

Those files hold only neural forecasters, their attributes laid out by hand: a JSON ``meta``
(configuration, plan, ids, calendar, scaler methods, history) and flat tensors (``net.*``,
``scaler<i>.loc``, ``context.values``, ...). :func:`neural_state` turns them into the state
:meth:`NeuralForecaster.get_state <tsrnn.models.neural.NeuralForecaster.get_state>` gives
today, applying the changes between the formats:

- format 1 named the training precision by ``mixed_precision`` (``True``: fp16);
- format 1 had one naive season (``config["season"]``) and one sigmoid blend logit per step,
  where format 2 has several seasons and softmax weights: ``sigmoid(w) = softmax([w, 0])[0]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from tsrnn.data.panel import index_from_state
from tsrnn.models.base import points_at, to_state


def neural_state(meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> dict[str, Any]:
    """The state of a format-1 or format-2 file's neural forecaster."""
    arrays = {k: v.numpy() for k, v in tensors.items() if not k.startswith("net.")}
    net = {k[4:]: v for k, v in tensors.items() if k.startswith("net.")}

    config = dict(meta["config"])
    if "season" in config:  # format 1: one season, one blend logit per step
        season = config.pop("season")
        config["seasons"] = [season] if season else []
        blend = net.get("blend")
        if blend is not None and blend.dim() == 2:
            net["blend"] = torch.stack([blend, torch.zeros_like(blend)], dim=-1)
    config = {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}

    plan = dict(meta["plan"])
    if "mixed_precision" in plan:  # format 1
        plan["precision"] = "fp16" if plan.pop("mixed_precision") else "fp32"
    plan = {k: tuple(v) if isinstance(v, list) else v for k, v in plan.items()}

    freq = meta["freq"]
    ids = np.asarray(meta["ids"], dtype=object)
    spec = meta["context"]
    context = {
        "values": arrays["context.values"],
        "observed": arrays["context.observed"],
        "offsets": arrays["context.offsets"],
        "covariates": arrays["context.covariates"],
        "ids": spec["ids"],
        "starts": spec["starts"],
        "freq": freq,
        "covariate_names": spec["covariate_names"],
        "future_covariates": spec["future_covariates"],
    }
    preprocessor = {
        "covariate_names": meta["covariate_names"],
        "covariate_loc": arrays["covariate_loc"],
        "covariate_scale": arrays["covariate_scale"],
        "context": context,
        "scalers": [
            {
                "method": method,
                "ids": meta["ids"],
                "loc": arrays[f"scaler{i}.loc"],
                "scale": arrays[f"scaler{i}.scale"],
            }
            for i, method in enumerate(meta["scaler_methods"])
        ],
        "spread": arrays["series_spread"],
    }
    index = points_at(ids, index_from_state(meta["index_starts"]), freq)
    return {
        "version": meta["format_version"],
        "net": net,
        "config": to_state(config),
        "plan": to_state(plan),
        "preprocessor": to_state(preprocessor),
        "freq_": freq,
        "season_": meta["season"],
        "ids_": to_state(ids),
        "lengths_": arrays["lengths"],
        "index_": to_state(index),
        "residual_std_": arrays.get("residual_std"),
        "feature_names_": to_state(tuple(meta["feature_names"])),
        "future_names_": to_state(tuple(meta["future_names"])),
        "history_": to_state(pd.DataFrame(meta["history"])),
        "best_step_": meta["best_step"],
        "stop_reason_": meta["stop_reason"],
        "n_windows_": meta["n_windows"],
    }

"""Saving and loading fitted neural forecasters: one file, no pickled code.

The file is a ``torch.save`` of a dict holding one JSON string (class, parameters, the network's
configuration, the resolved training plan, series ids and calendar, scaler methods, history,
library versions) and a flat dict of tensors (the weights, each scaler's locations and scales,
the covariate standardization, the stored tail of every series). Reading it back uses
``torch.load(weights_only=True)``: only tensors and plain containers can come out of the file,
never an object whose loading runs code. It is written atomically.

``format_version`` changes only when the layout does. A file from a newer format than this
tsrnn reads is refused with a message saying which version wrote it; a file written by another
tsrnn version with a format this one reads loads (the difference is logged).
"""

from __future__ import annotations

import json
import logging
import os
import platform
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd
import torch

from tsrnn.data.panel import Panel
from tsrnn.data.scale import Scaler
from tsrnn.report.atomic import atomic_path

log = logging.getLogger(__name__)

FORMAT = "tsrnn-model"
FORMAT_VERSION = 2  # 2: several naive seasons (softmax blend), precision names


def save_model(model: Any, path: str | os.PathLike[str]) -> None:
    """Write a fitted :class:`~tsrnn.models.neural.NeuralForecaster` to ``path``."""
    import tsrnn

    params = model.get_params()
    if params.get("callback") is not None:
        log.info("save: the progress callback is not saved (it is code); loaded models have none")
    params["callback"] = None
    tensors: dict[str, torch.Tensor] = {
        f"net.{k}": v.detach().cpu() for k, v in model.net_.state_dict().items()
    }
    for i, scaler in enumerate(model.scalers_):
        tensors[f"scaler{i}.loc"] = torch.from_numpy(scaler.loc_)
        tensors[f"scaler{i}.scale"] = torch.from_numpy(scaler.scale_)
    tensors["covariate_loc"] = torch.from_numpy(np.asarray(model.covariate_loc_))
    tensors["covariate_scale"] = torch.from_numpy(np.asarray(model.covariate_scale_))
    if model.residual_std_ is not None:
        tensors["residual_std"] = torch.from_numpy(np.asarray(model.residual_std_))
    tensors["lengths"] = torch.from_numpy(model.lengths_)
    tensors["series_spread"] = torch.from_numpy(model.series_spread_)
    context = _panel_tensors(model.context_, "context", tensors)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tsrnn_version": tsrnn.__version__,
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "pandas_version": pd.__version__,
        "python_version": platform.python_version(),
        "class": type(model).__name__,
        "params": {k: _plain(v) for k, v in params.items()},
        "tuple_params": [k for k, v in params.items() if isinstance(v, tuple)],
        "config": model.config_.to_dict(),
        "plan": asdict(model.plan_),
        "freq": model.freq_,
        "season": model.season_,
        "ids": [str(i) for i in model.ids_],
        "index_starts": _times(model.index_.starts),
        "context": context,
        "scaler_methods": [s.method for s in model.scalers_],
        "covariate_names": list(model.covariate_names_),
        "feature_names": list(model.feature_names_),
        "future_names": list(model.future_names_),
        "history": model.history_.to_dict(orient="list"),
        "best_step": model.best_step_,
        "stop_reason": model.stop_reason_,
        "n_windows": model.n_windows_,
    }
    with atomic_path(path) as tmp:
        torch.save({"meta": json.dumps(meta, default=_plain), "tensors": tensors}, tmp)


def _plain(value: Any) -> Any:
    """JSON-ready: numpy scalars and arrays, and tuples, as Python numbers and lists."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray | tuple | list):
        return [_plain(v) for v in value]
    return value


def load_model(path: str | os.PathLike[str], device: str | None = None) -> Any:
    """Read a model written by :func:`save_model` (``tsrnn.load``).

    ``device`` overrides where the network runs; by default the device it was trained on,
    or the CPU when that is a GPU this machine lacks.
    """
    import tsrnn
    from tsrnn.errors import DataError

    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        meta = json.loads(payload["meta"])
        tensors = payload["tensors"]
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise DataError(f"{path}: not a tsrnn model file ({type(exc).__name__}: {exc})") from None
    if meta.get("format") != FORMAT:
        raise DataError(f"{path}: not a tsrnn model file (format {meta.get('format')!r})")
    if meta["format_version"] > FORMAT_VERSION:
        raise DataError(
            f"{path}: written by tsrnn {meta['tsrnn_version']} in model format "
            f"{meta['format_version']}; this tsrnn {tsrnn.__version__} reads format "
            f"{FORMAT_VERSION} at most: upgrade tsrnn to load it"
        )
    try:
        return _restore(meta, tensors, path, device)
    except DataError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise DataError(
            f"{path}: a tsrnn model file this tsrnn cannot read (written by tsrnn "
            f"{meta.get('tsrnn_version')}, format {meta.get('format_version')}: "
            f"{type(exc).__name__}: {exc}); refit the model and save it again"
        ) from None


def _restore(meta: dict, tensors: dict, path: Any, device: str | None) -> Any:
    import tsrnn
    from tsrnn.errors import DataError
    from tsrnn.models import neural
    from tsrnn.models.base import points_at
    from tsrnn.models.nets import NetConfig, RecurrentNet

    if meta["tsrnn_version"] != tsrnn.__version__:
        log.info(
            "%s was saved by tsrnn %s; loading with %s",
            path,
            meta["tsrnn_version"],
            tsrnn.__version__,
        )
    classes = {
        c.__name__: c
        for c in (
            neural.NeuralForecaster,
            neural.LSTMForecaster,
            neural.GRUForecaster,
            neural.RNNForecaster,
        )
    }
    cls = classes.get(meta["class"])
    if cls is None:
        raise DataError(f"{path}: unknown model class {meta['class']!r}")
    known = cls().get_params()
    tuples = set(meta.get("tuple_params", ()))
    params = {k: tuple(v) if k in tuples else v for k, v in meta["params"].items() if k in known}
    model = cls(**params)

    plan = dict(meta["plan"])
    plan["quantiles"] = tuple(plan["quantiles"])
    for key in ("past", "future", "targets"):
        plan[key] = tuple(plan[key])
    if device is not None:
        plan["device"] = device
    if plan["device"].startswith("cuda") and not torch.cuda.is_available():
        log.info("%s was trained on %s; running it on the CPU here", path, plan["device"])
        plan["device"] = "cpu"
    if "mixed_precision" in plan:  # files written before bfloat16 was offered
        plan["precision"] = "fp16" if plan.pop("mixed_precision") else "fp32"
    if plan["precision"] == "fp16" and not plan["device"].startswith("cuda"):
        plan["precision"] = "fp32"
    model.plan_ = neural._Plan(**plan)
    config = dict(meta["config"])
    config["target_columns"] = tuple(config["target_columns"])
    if "season" in config:  # files written before several naive seasons: one blend logit
        season = config.pop("season")
        config["seasons"] = (season,) if season else ()
        blend = tensors.get("net.blend")
        if blend is not None and blend.dim() == 2:  # sigmoid(w) = softmax([w, 0])[0]
            tensors["net.blend"] = torch.stack([blend, torch.zeros_like(blend)], dim=-1)
    config["seasons"] = tuple(config.get("seasons", ()))
    model.config_ = NetConfig(**config)
    net = RecurrentNet(model.config_)
    net.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("net.")})
    model.net_ = net.to(plan["device"]).eval()

    freq = meta["freq"]
    model.freq_, model.season_ = freq, meta["season"]
    model.ids_ = np.asarray(meta["ids"], dtype=object)
    model.lengths_ = tensors["lengths"].numpy()
    model.series_spread_ = tensors["series_spread"].numpy()
    model.context_ = _panel_from(meta["context"], "context", tensors, freq)
    model.index_ = points_at(model.ids_, _index_from(meta["index_starts"]), freq)
    model.scalers_ = []
    for i, method in enumerate(meta["scaler_methods"]):
        scaler = Scaler(method)
        scaler.ids_ = model.ids_.astype(str)
        scaler.loc_ = tensors[f"scaler{i}.loc"].numpy()
        scaler.scale_ = tensors[f"scaler{i}.scale"].numpy()
        model.scalers_.append(scaler)
    model.covariate_names_ = tuple(meta["covariate_names"])
    model.covariate_loc_ = tensors["covariate_loc"].numpy()
    model.covariate_scale_ = tensors["covariate_scale"].numpy()
    model.residual_std_ = tensors["residual_std"].numpy() if "residual_std" in tensors else None
    model.feature_names_ = tuple(meta["feature_names"])
    model.future_names_ = tuple(meta["future_names"])
    model.history_ = pd.DataFrame(meta["history"])
    model.best_step_ = meta["best_step"]
    model.stop_reason_ = meta["stop_reason"]
    model.n_windows_ = meta["n_windows"]
    return model


# ---------------------------------------------------------------------- panels as tensors
def _times(index: pd.Index) -> dict:
    if isinstance(index, pd.DatetimeIndex):
        tz = None if index.tz is None else str(index.tz)
        return {"kind": "datetime", "tz": tz, "ns": index.as_unit("ns").asi8.tolist()}
    return {"kind": "int", "values": index.to_numpy(dtype=np.int64).tolist()}


def _index_from(spec: dict) -> pd.Index:
    if spec["kind"] == "int":
        return pd.Index(np.asarray(spec["values"], dtype=np.int64))
    index = pd.DatetimeIndex(np.asarray(spec["ns"], dtype=np.int64).view("datetime64[ns]"))
    return index.tz_localize("UTC").tz_convert(spec["tz"]) if spec["tz"] else index


def _panel_tensors(panel: Panel, name: str, tensors: dict[str, torch.Tensor]) -> dict:
    tensors[f"{name}.values"] = torch.from_numpy(panel.values)
    tensors[f"{name}.observed"] = torch.from_numpy(panel.observed)
    tensors[f"{name}.offsets"] = torch.from_numpy(panel.offsets)
    tensors[f"{name}.covariates"] = torch.from_numpy(panel.covariates)
    return {
        "ids": [str(i) for i in panel.ids],
        "starts": _times(panel.starts),
        "covariate_names": list(panel.covariate_names),
        "future_covariates": list(panel.future_covariates),
    }


def _panel_from(spec: dict, name: str, tensors: dict[str, torch.Tensor], freq: Any) -> Panel:
    return Panel(
        values=tensors[f"{name}.values"].numpy(),
        observed=tensors[f"{name}.observed"].numpy(),
        offsets=tensors[f"{name}.offsets"].numpy(),
        ids=np.asarray(spec["ids"], dtype=object),
        starts=_index_from(spec["starts"]),
        freq=freq,
        covariates=tensors[f"{name}.covariates"].numpy(),
        covariate_names=tuple(spec["covariate_names"]),
        future_covariates=tuple(spec["future_covariates"]),
    )

"""Model files: a model's class name, parameters and state, as tensors and JSON in one file.

The container knows no model class. A model gives its state as plain data
(:meth:`~tsrnn.models.base.Forecaster.get_state`: dicts, lists, numbers, strings and numeric
arrays); :func:`save_model` moves every array into a flat dict of tensors, leaves a reference
(``{"__tensor__": key}``) in its place and writes ``{"meta": <JSON>, "tensors": {...}}`` with
``torch.save``, atomically. :func:`read_model` reads it back with
``torch.load(weights_only=True)``: only tensors and plain containers can come out of a file,
never an object whose loading runs code. :func:`tsrnn.load` then builds the class the registry
(:mod:`tsrnn.models`) names and hands it the state.

``format_version`` changes only when the container does. A file of a newer format than this
tsrnn reads is refused, saying which version wrote it. Files of formats 1 and 2 (tsrnn before
the state contract: the neural forecaster's attributes laid out by hand) are read as
``{"legacy": {"meta": ..., "tensors": ...}}`` for the model's ``set_state`` to convert.
"""

from __future__ import annotations

import codecs
import json
import logging
import os
import platform
import warnings
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
import pandas as pd
import torch

from tsrnn.errors import DataError
from tsrnn.files import atomic_path

log = logging.getLogger(__name__)

FORMAT = "tsrnn-model"
FORMAT_VERSION = 3  # 3: class + params + state (any model); 1-2: the neural model only


@dataclass(frozen=True)
class SavedModel:
    """What a model file holds."""

    class_name: str
    params: dict[str, Any]  # plain data (tuples tagged, see tsrnn.models.base.to_state)
    state: dict[str, Any]  # plain data, arrays as numpy arrays
    meta: dict[str, Any]  # format, versions of the libraries that wrote it


def save_model(
    path: str | os.PathLike[str], class_name: str, params: dict[str, Any], state: dict[str, Any]
) -> None:
    """Write a model's class name, parameters and state to ``path`` (atomically)."""
    tensors: dict[str, torch.Tensor] = {}
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tsrnn_version": tsrnn_version(),
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "pandas_version": pd.__version__,
        "python_version": platform.python_version(),
        "class": class_name,
        "params": _split(params, tensors, "params"),
        "state": _split(state, tensors, "state"),
    }
    text = json.dumps(meta, allow_nan=True)
    with atomic_path(path) as tmp:
        torch.save({"meta": text, "tensors": tensors}, tmp)


# What a file that is no model file gets: never torch's own advice, which for a crafted file
# would be to load it with weights_only=False, that is to run what it holds.
NOT_A_MODEL = "not a tsrnn model file, or written by an unknown version; nothing in it was run"


def read_model(path: str | os.PathLike[str]) -> SavedModel:
    """Read what :func:`save_model` wrote (or an older tsrnn's model file)."""
    if os.path.isdir(path):
        raise DataError(f"{path}: a folder, not a tsrnn model file")
    if looks_like_text(path):
        raise DataError(f"{path}: a text file (data?), {NOT_A_MODEL}")
    try:
        with warnings.catch_warnings():  # torch's warnings about a foreign pickle: ours says it
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location="cpu", weights_only=True)
        meta = json.loads(payload["meta"])
        tensors = payload["tensors"]
    except FileNotFoundError:
        raise
    except Exception:
        raise DataError(f"{path}: {NOT_A_MODEL}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise DataError(f"{path}: {NOT_A_MODEL}")
    written = meta.get("format_version", 0)
    if written > FORMAT_VERSION:
        raise DataError(
            f"{path}: written by tsrnn {meta.get('tsrnn_version')} in model format {written}; "
            f"this tsrnn {tsrnn_version()} reads format {FORMAT_VERSION} at most: upgrade "
            "tsrnn to load it"
        )
    if meta.get("tsrnn_version") != tsrnn_version():
        log.info(
            "%s was saved by tsrnn %s; loading with %s",
            path,
            meta.get("tsrnn_version"),
            tsrnn_version(),
        )
    versions = {k: v for k, v in meta.items() if k not in ("params", "state")}
    if written < 3:
        tuples = set(meta.get("tuple_params", ()))
        params = {
            k: {"__tuple__": v} if k in tuples else v for k, v in meta.get("params", {}).items()
        }
        state = {"legacy": {"meta": meta, "tensors": dict(tensors)}}
        return SavedModel(str(meta.get("class")), params, state, versions)
    return SavedModel(
        str(meta["class"]),
        _join(meta["params"], tensors),
        _join(meta["state"], tensors),
        versions,
    )


def looks_like_text(path: str | os.PathLike[str]) -> bool:
    """Whether the file starts as text (a CSV, say), which no model file does: model files
    are zip archives (or, before torch 1.6, pickles), whose first bytes are not printable."""
    with open(path, "rb") as f:
        start = f.read(512)
    if not start or start.startswith((b"PK", b"\x80")):
        return False
    try:  # an incremental decoder: a character cut at the end of the sample is no error
        text = codecs.getincrementaldecoder("utf-8")().decode(start)
    except UnicodeDecodeError:
        try:
            text = start.decode("utf-16")
        except UnicodeDecodeError:
            return False
    return all(c.isprintable() or c in "\r\n\t\ufeff" for c in text)


def tsrnn_version() -> str:
    try:
        return version("tsrnn")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"


# ---------------------------------------------------------------------- arrays <-> tensors
def _split(value: Any, tensors: dict[str, torch.Tensor], key: str) -> Any:
    """``value`` with every array moved into ``tensors`` (a reference left in its place)."""
    if isinstance(value, dict):
        return {str(k): _split(v, tensors, f"{key}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_split(v, tensors, f"{key}.{i}") for i, v in enumerate(value)]
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"{key}: a {value.dtype} array cannot be saved as a tensor")
        tensors[key] = torch.from_numpy(np.array(value))  # a copy: writable, contiguous
        return {"__tensor__": key, "numpy": True}
    if isinstance(value, torch.Tensor):
        tensors[key] = value.detach().cpu()
        return {"__tensor__": key}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"{key}: a {type(value).__name__} is not plain data")


def _join(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """The inverse of :func:`_split`."""
    if isinstance(value, list):
        return [_join(v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tensor__" in value:
        tensor = tensors[value["__tensor__"]]
        return tensor.numpy() if value.get("numpy") else tensor
    return {k: _join(v, tensors) for k, v in value.items()}

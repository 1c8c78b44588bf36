"""Static covariates: attributes of each series (a store's region, a sensor's type), not of time.

Users pass them as Nixtla's libraries take them, a ``static_df`` with one row per series keyed
by ``unique_id`` and one column per attribute. :class:`StaticFeatures` learns, in ``fit``, how to
turn those columns into numbers a network reads: each numeric (or boolean) column standardized
by its mean and spread over the fitted series, each other column (strings, categories) one-hot
over the levels seen in ``fit``. It keeps the encoded attributes of every series it has been
given, so a saved model forecasts its series without the frame, and a series it never saw is
described by its attributes when they are given (``predict(y=new, static_df=...)``).

Attributes are data, not parameters: ``get_params`` and ``clone`` never see them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from tsrnn.data.panel import ID
from tsrnn.errors import DataError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StaticFeatures:
    """How a ``static_df``'s columns become network inputs, and each known series' inputs.

    Examples
    --------
    >>> static = pd.DataFrame({"unique_id": ["a", "b", "c"], "region": ["n", "s", "n"],
    ...                        "size": [1.0, 2.0, 3.0]})
    >>> features = StaticFeatures.fit(static, ["a", "b", "c"], "LSTM")
    >>> features.names
    ('static:size', 'static:region=n', 'static:region=s')
    >>> features.values(["c", "a"], "LSTM").astype(float).round(3).tolist()  # float32 inputs
    [[1.225, 1.0, 0.0], [-1.225, 1.0, 0.0]]
    """

    numeric: tuple[str, ...]  # standardized columns
    loc: np.ndarray  # (n_numeric,) their mean over the fitted series
    scale: np.ndarray  # (n_numeric,) their spread (1 where constant)
    categorical: tuple[str, ...]  # one-hot columns ...
    levels: tuple[tuple[str, ...], ...]  # ... and the levels seen in fit, per column
    ids: tuple[str, ...] = ()  # series whose attributes are known ...
    table: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # ... encoded, one row each

    @property
    def columns(self) -> tuple[str, ...]:
        """The ``static_df`` columns read, numeric ones first."""
        return self.numeric + self.categorical

    @property
    def names(self) -> tuple[str, ...]:
        """The network's input names: ``static:<column>``, ``static:<column>=<level>``."""
        one_hot = [
            f"static:{c}={v}"
            for c, vs in zip(self.categorical, self.levels, strict=True)
            for v in vs
        ]
        return tuple(f"static:{c}" for c in self.numeric) + tuple(one_hot)

    @classmethod
    def fit(cls, static_df: Any, ids: Sequence[Any], model: str) -> StaticFeatures:
        """Learn the encoding from the rows of the series in ``ids`` (all must be there)."""
        frame = _checked(static_df, model)
        columns = [c for c in frame.columns if c != ID]
        if not columns:
            raise DataError(
                f"{model}: static_df has no attribute columns besides {ID!r}; give one column "
                "per attribute (numbers, or strings/categories)"
            )
        rows = _rows_of(frame, ids, model)
        numeric, categorical, levels = [], [], []
        for c in columns:
            column = frame[c]
            if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
                numeric.append(c)
            elif pd.api.types.is_datetime64_any_dtype(column) or isinstance(
                column.dtype, pd.PeriodDtype
            ):
                raise DataError(
                    f"{model}: static_df column {c!r} holds dates; give a number (a year, an "
                    "age in days) or a category instead"
                )
            else:
                categorical.append(c)
                seen = column.iloc[rows]
                levels.append(tuple(sorted({str(v) for v in seen.dropna()})))
        k = len(numeric)
        raw = cls(tuple(numeric), np.zeros(k), np.ones(k), tuple(categorical), tuple(levels))
        values = raw._encode(frame.iloc[rows], model)[:, :k]  # checked: finite, no gaps
        scale = values.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        features = replace(raw, loc=values.mean(axis=0), scale=scale)
        return features.with_rows(frame, model)

    def with_rows(self, static_df: Any, model: str) -> StaticFeatures:
        """These features knowing the attributes of every series ``static_df`` has a row for
        (replacing what was known of them); the others keep what was known."""
        frame = _checked(static_df, model)
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise DataError(
                f"{model}: static_df lacks the columns {missing} the model was fitted with "
                f"(it has {[c for c in frame.columns if c != ID]}); give every fitted attribute"
            )
        encoded = self._encode(frame, model)
        known = dict(zip(self.ids, self.table, strict=True))
        known.update(zip(frame[ID].astype(str), encoded, strict=True))
        order = tuple(known)
        table = np.stack([known[i] for i in order]) if order else np.zeros((0, len(self.names)))
        return replace(self, ids=order, table=table)

    def values(self, ids: Sequence[Any], model: str) -> np.ndarray:
        """The encoded attributes of each series in ``ids``, ``(len(ids), n_features)``
        ``float32``; a series whose attributes were never given is a DataError."""
        index = pd.Index(self.ids).get_indexer([str(i) for i in ids])
        if np.any(index < 0):
            lacking = [str(i) for i, k in zip(ids, index, strict=True) if k < 0]
            raise DataError(
                f"{model}: no static attributes for {len(lacking)} series (first: "
                f"{lacking[0]!r}); the model reads {list(self.columns)}: give them in "
                "static_df= (one row per series, keyed by unique_id)"
            )
        return self.table[index].astype(np.float32)

    def _encode(self, frame: pd.DataFrame, model: str) -> np.ndarray:
        parts = []
        for k, c in enumerate(self.numeric):
            column = pd.to_numeric(frame[c], errors="coerce").astype(np.float64)
            bad = column.isna() | ~np.isfinite(column.fillna(0.0))
            if bad.any():
                row = frame[bad].iloc[0]
                value = row[c]
                shown = "missing" if pd.isna(value) else f"{float(value)}, not a finite number"
                raise DataError(
                    f"{model}: static_df column {c!r} of series {str(row[ID])!r} is {shown}; "
                    "give every series a value"
                )
            parts.append(((column.to_numpy() - self.loc[k]) / self.scale[k])[:, None])
        for c, levels in zip(self.categorical, self.levels, strict=True):
            column = frame[c]
            if column.isna().any():
                row = frame[column.isna()].iloc[0]
                raise DataError(
                    f"{model}: static_df column {c!r} of series {str(row[ID])!r} is missing; "
                    "give every series a value (or a level such as 'unknown')"
                )
            text = column.astype(str)
            new = sorted(set(text) - set(levels))
            if new:
                log.warning(
                    "%s: static_df column %r has levels never seen in fit (%s); those series "
                    "read none of the fitted levels",
                    model,
                    c,
                    ", ".join(repr(v) for v in new[:5]),
                )
            parts.append((text.to_numpy()[:, None] == np.array(levels)[None, :]).astype(float))
        if not parts:
            return np.zeros((len(frame), 0))
        return np.concatenate(parts, axis=1)

    # ------------------------------------------------------------------ state
    def to_state(self) -> dict[str, Any]:
        """Plain data for a model file."""
        return {
            "numeric": list(self.numeric),
            "loc": self.loc,
            "scale": self.scale,
            "categorical": list(self.categorical),
            "levels": [list(v) for v in self.levels],
            "ids": list(self.ids),
            "table": self.table,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> StaticFeatures:
        return cls(
            tuple(state["numeric"]),
            np.asarray(state["loc"], dtype=np.float64),
            np.asarray(state["scale"], dtype=np.float64),
            tuple(state["categorical"]),
            tuple(tuple(v) for v in state["levels"]),
            tuple(state["ids"]),
            np.asarray(state["table"], dtype=np.float64).reshape(len(state["ids"]), -1),
        )


def _checked(static_df: Any, model: str) -> pd.DataFrame:
    """``static_df`` as a frame with a ``unique_id`` column (from its index where it is the
    index), one row per series."""
    if not isinstance(static_df, pd.DataFrame):
        raise DataError(
            f"{model}: static_df must be a DataFrame with a {ID!r} column and one column per "
            f"attribute; got a {type(static_df).__name__}"
        )
    frame = static_df
    if ID not in frame.columns and frame.index.name == ID:
        frame = frame.reset_index()
    if ID not in frame.columns:
        raise DataError(
            f"{model}: static_df has no {ID!r} column (columns: {list(frame.columns)}); key "
            "its rows by the series' unique_id"
        )
    repeated = frame[ID].astype(str).duplicated()
    if repeated.any():
        raise DataError(
            f"{model}: static_df has more than one row for series "
            f"{str(frame[ID][repeated].iloc[0])!r}; give one row per series"
        )
    return frame


def _rows_of(frame: pd.DataFrame, ids: Sequence[Any], model: str) -> np.ndarray:
    """Row of each of ``ids`` in ``frame``; a series without one is a DataError."""
    rows = pd.Index(frame[ID].astype(str)).get_indexer([str(i) for i in ids])
    if np.any(rows < 0):
        lacking = [str(i) for i, r in zip(ids, rows, strict=True) if r < 0]
        raise DataError(
            f"{model}: static_df has no row for {len(lacking)} of the {len(ids)} fitted series "
            f"(first: {lacking[0]!r}); give one row per series"
        )
    return rows

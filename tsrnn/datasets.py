"""The small real data sets that ship with tsrnn, in long format.

Each bundled file lies in the package ``tsrnn._bundled`` (the repository's ``datasets/``
folder); its source, licence and how it was built are in ``datasets/README.md``.

- ``air_passengers``: monthly international airline passengers (thousands), 1949-1960,
  one series of 144 values (Box & Jenkins, Series G).
- ``beijing_pm25``: hourly PM2.5 at 12 Beijing stations, 2013-03-01 to 2017-02-28,
  35,064 hours each with about 2 % missing, plus the weather covariates TEMP, PRES, DEWP,
  RAIN and WSPM (UCI Beijing Multi-Site Air-Quality, CC BY 4.0).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from tsrnn.errors import DataError

_PACKAGE = "tsrnn._bundled"
# name -> file in tsrnn._bundled; the files are already sorted by unique_id, ds.
_FILES = {
    "air_passengers": "air_passengers.csv",
    "beijing_pm25": "beijing_pm25.csv.gz",
}


def names() -> list[str]:
    """Return the names of the bundled data sets, sorted.

    Returns
    -------
    list of str
        Names accepted by :func:`load` and :func:`path` (and by the CLI in place of a file).

    Examples
    --------
    >>> from tsrnn import datasets
    >>> datasets.names()
    ['air_passengers', 'beijing_pm25']
    """
    return sorted(_FILES)


def path(name: str) -> Path:
    """Return the file that holds a bundled data set.

    Parameters
    ----------
    name : str
        One of :func:`names`.

    Returns
    -------
    pathlib.Path
        The CSV file (``.csv`` or gzip-compressed ``.csv.gz``) inside the installed package,
        so anything that reads a CSV file can read it.

    Raises
    ------
    DataError
        If ``name`` is not a bundled data set; the message lists the names there are.

    Examples
    --------
    >>> from tsrnn import datasets
    >>> datasets.path("beijing_pm25").name
    'beijing_pm25.csv.gz'
    """
    try:
        filename = _FILES[name]
    except (KeyError, TypeError):
        raise DataError(
            f"no bundled data set named {name!r}; use one of: {', '.join(names())}"
        ) from None
    # Editable and wheel installs both put the package on disk, so this is a real path.
    return Path(str(resources.files(_PACKAGE).joinpath(filename)))


def load(name: str) -> pd.DataFrame:
    """Load a bundled data set as a long DataFrame.

    Parameters
    ----------
    name : str
        One of :func:`names`.

    Returns
    -------
    pandas.DataFrame
        Columns ``unique_id`` (str), ``ds`` (datetime64), ``y`` (float64), then any
        covariates (float64), sorted by ``unique_id`` and ``ds``. Missing values are NaN.

    Raises
    ------
    DataError
        If ``name`` is not a bundled data set; the message lists the names there are.

    Examples
    --------
    >>> from tsrnn import datasets
    >>> air = datasets.load("air_passengers")
    >>> air.shape
    (144, 3)
    >>> air["y"].iloc[[0, -1]].tolist()
    [112.0, 432.0]
    >>> pm25 = datasets.load("beijing_pm25")
    >>> list(pm25.columns)
    ['unique_id', 'ds', 'y', 'TEMP', 'PRES', 'DEWP', 'RAIN', 'WSPM']
    >>> pm25.groupby("unique_id").size().unique().tolist()
    [35064]
    """
    file = path(name)
    frame = pd.read_csv(file, dtype={"unique_id": str}, keep_default_na=False, na_values=[""])
    frame["ds"] = pd.to_datetime(frame["ds"], format="ISO8601")
    value_columns = [c for c in frame.columns if c not in ("unique_id", "ds")]
    frame[value_columns] = frame[value_columns].astype("float64")
    return frame


def read_m4(folder: str | Path, frequency: str = "Hourly") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read an M4 competition train/test pair as published, in long format.

    The M4 files are wide by row: ``V1`` holds the series id and ``V2...`` the observations,
    padded with empty fields. M4 publishes no start dates for Hourly and Weekly (the info file
    is not part of the data), so ``ds`` is the integer step, counting from 1 in the train file
    and continuing in the test file.

    Parameters
    ----------
    folder : path
        A folder holding ``<frequency>-train.csv`` (or ``.csv.gz``) and ``<frequency>-test.csv``.
    frequency : str
        ``"Hourly"``, ``"Weekly"``, ...

    Returns
    -------
    (train, test) : tuple of pandas.DataFrame
        Long frames ``unique_id``, ``ds`` (int64), ``y`` (float64), sorted as the files are
        (``H1``, ``H2``, ...).
    """
    folder = Path(folder)

    def one(kind: str) -> pd.DataFrame:
        candidates = [folder / f"{frequency}-{kind}.csv", folder / f"{frequency}-{kind}.csv.gz"]
        file = next((c for c in candidates if c.exists()), None)
        if file is None:
            raise DataError(f"{candidates[0]}: no such M4 file (nor .csv.gz); check the folder")
        wide = pd.read_csv(file, index_col=0)
        long = wide.stack(future_stack=True).dropna().rename("y").reset_index()  # drop padding
        long.columns = ["unique_id", "column", "y"]
        long["ds"] = long["column"].str[1:].astype("int64") - 1  # V2 is step 1
        return long[["unique_id", "ds", "y"]].astype({"y": "float64"})

    train, test = one("train"), one("test")
    order = {sid: k for k, sid in enumerate(train["unique_id"].unique())}
    ends = train.groupby("unique_id")["ds"].max()
    test["ds"] = test["ds"] + test["unique_id"].map(ends).to_numpy()
    key = train["unique_id"].map(order)
    train = train.iloc[np.lexsort((train["ds"].to_numpy(), key.to_numpy()))]
    key = test["unique_id"].map(order)
    test = test.iloc[np.lexsort((test["ds"].to_numpy(), key.to_numpy()))]
    return train.reset_index(drop=True), test.reset_index(drop=True)


# M3 periods: the months in one of each (the dates fall on YS, QS and MS grids); None: no
# calendar ("Other": integer steps).
_M3_PERIODS = {"Yearly": 12, "Quarterly": 3, "Monthly": 1, "Other": None}


def read_m3(folder: str | Path, period: str = "Monthly") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read an M3 competition train/test pair in long format, with the series' real dates.

    The files are wide by row (``id,V1,V2,...``, padded with empty fields), as in
    ``../shared/datasets/M3``. ``M3-info.csv`` in the same folder gives each series' first
    year and period, so ``ds`` holds month-start dates (``YS``, ``QS`` or ``MS`` grids) and a
    model infers the season (1, 4 or 12) as it would from a user's file. A series whose year
    is unknown (M3 writes year 1, some "other"-type monthly series) starts in the year 2000
    at its given month: its calendar position is known, its year is not. M3's "Other" series
    have no calendar at all, so their ``ds`` is the integer step, from 0 in the train file
    and continuing in the test file; pass a model ``season=1``.

    Parameters
    ----------
    folder : path
        A folder holding ``<period>-train.csv``, ``<period>-test.csv`` and (but for
        ``"Other"``) ``M3-info.csv``.
    period : str
        ``"Yearly"``, ``"Quarterly"``, ``"Monthly"`` or ``"Other"``.

    Returns
    -------
    (train, test) : tuple of pandas.DataFrame
        Long frames ``unique_id`` (``N0001`` ...), ``ds`` (datetime64; int64 for ``"Other"``),
        ``y`` (float64), in the files' order; each test series starts one period after its
        train series ends.
    """
    if period not in _M3_PERIODS:
        raise DataError(f"read_m3: period={period!r}; choose one of {list(_M3_PERIODS)}")
    folder = Path(folder)
    months = _M3_PERIODS[period]
    files = [folder / f"{period}-{kind}.csv" for kind in ("train", "test")]
    files += [folder / "M3-info.csv"] if months else []  # the calendar's start of each series
    for file in files:
        if not file.exists():
            raise DataError(f"{file}: no such M3 file; check the folder")
    frames = []
    for file in files[:2]:
        wide = pd.read_csv(file, index_col=0)
        long = wide.stack(future_stack=True).dropna().rename("y").reset_index()  # no padding
        long.columns = ["unique_id", "column", "y"]
        long["step"] = long["column"].str[1:].astype("int64") - 1  # V1 is step 0
        frames.append(long[["unique_id", "step", "y"]].astype({"y": "float64"}))
    train, test = frames
    test["step"] += test["unique_id"].map(train.groupby("unique_id")["step"].max() + 1)
    order = ["unique_id", "ds", "y"]
    if months is None:  # "Other": no calendar, the integer step
        train, test = (frame.rename(columns={"step": "ds"})[order] for frame in (train, test))
        return train.reset_index(drop=True), test.reset_index(drop=True)
    info = pd.read_csv(files[2], index_col="id")
    missing = sorted(set(train["unique_id"]) - set(info.index))
    if missing:
        raise DataError(f"{files[2]}: no row for series {missing[:5]}; use the M3 info file")
    year = info["start_year"].where(info["start_year"] >= 1678, 2000)  # 1: unknown year
    first = (year * 12 + (info["start_period"] - 1) * months).astype("int64")  # months since 0 AD
    for frame in (train, test):
        month = frame["unique_id"].map(first).to_numpy() + frame["step"].to_numpy() * months
        frame["ds"] = pd.to_datetime(
            {"year": month // 12, "month": month % 12 + 1, "day": np.ones(len(frame), int)}
        )
    return train[order].reset_index(drop=True), test[order].reset_index(drop=True)

"""Tests for tsrnn.datasets: the bundled data load as documented and can be rebuilt."""

from __future__ import annotations

import doctest
import gzip
import importlib.util
from pathlib import Path

import pandas as pd
import pytest

import tsrnn.datasets
from tsrnn import DataError, datasets

REPO_ROOT = Path(__file__).resolve().parent.parent
BEIJING_SOURCE = REPO_ROOT.parent / "shared" / "datasets" / "beijing_air"
BUILD_SCRIPT = REPO_ROOT / "datasets" / "build_beijing_pm25.py"
BEIJING_STATIONS = [
    "Aotizhongxin",
    "Changping",
    "Dingling",
    "Dongsi",
    "Guanyuan",
    "Gucheng",
    "Huairou",
    "Nongzhanguan",
    "Shunyi",
    "Tiantan",
    "Wanliu",
    "Wanshouxigong",
]


@pytest.fixture(scope="module")
def pm25() -> pd.DataFrame:
    return datasets.load("beijing_pm25")


def test_names_lists_every_bundled_file():
    assert datasets.names() == ["air_passengers", "beijing_pm25"]
    for name in datasets.names():
        assert datasets.path(name).is_file()


def test_air_passengers_is_the_box_jenkins_series():
    air = datasets.load("air_passengers")
    assert list(air.columns) == ["unique_id", "ds", "y"]
    assert pd.api.types.is_string_dtype(air["unique_id"])
    assert pd.api.types.is_datetime64_dtype(air["ds"])
    assert air["y"].dtype == "float64"
    assert len(air) == 144
    assert (air["unique_id"] == "AirPassengers").all()
    expected_ds = pd.date_range("1949-01-01", "1960-12-01", freq="MS")
    assert (air["ds"].to_numpy() == expected_ds.to_numpy()).all()
    assert air["y"].head(3).tolist() == [112.0, 118.0, 132.0]
    assert air["y"].iloc[-1] == 432.0
    assert air["y"].sum() == 40363.0
    assert not air["y"].isna().any()


def test_beijing_pm25_is_12_complete_hourly_grids(pm25):
    assert list(pm25.columns) == ["unique_id", "ds", "y", "TEMP", "PRES", "DEWP", "RAIN", "WSPM"]
    assert pd.api.types.is_string_dtype(pm25["unique_id"])
    assert pd.api.types.is_datetime64_dtype(pm25["ds"])
    for column in ["y", "TEMP", "PRES", "DEWP", "RAIN", "WSPM"]:
        assert pm25[column].dtype == "float64", column

    assert sorted(pm25["unique_id"].unique()) == BEIJING_STATIONS
    hours = pd.date_range("2013-03-01 00:00", "2017-02-28 23:00", freq="h")
    assert len(hours) == 35_064
    for station, group in pm25.groupby("unique_id"):
        assert (group["ds"].to_numpy() == hours.to_numpy()).all(), station
    # Sorted by unique_id, then ds, as the loader documents.
    assert pm25.equals(pm25.sort_values(["unique_id", "ds"], ignore_index=True))


def test_beijing_pm25_keeps_the_missing_values(pm25):
    missing = pm25["y"].isna()
    assert missing.sum() == 8_739
    assert 0.019 < missing.mean() < 0.022
    per_station = missing.groupby(pm25["unique_id"]).sum()
    assert per_station["Aotizhongxin"] == 925
    assert per_station["Wanliu"] == 382
    # Observed values are plausible concentrations, never a fill value such as 0 or -1.
    assert pm25["y"].min() >= 2.0
    assert pm25[["TEMP", "PRES", "DEWP", "RAIN", "WSPM"]].isna().any().all()


def test_unknown_name_raises_data_error_listing_the_names():
    with pytest.raises(DataError, match="air_passengers, beijing_pm25") as info:
        datasets.load("airpassengers")
    assert "'airpassengers'" in str(info.value)
    assert isinstance(info.value, ValueError)
    with pytest.raises(DataError, match="use one of"):
        datasets.path("beijing_pm25.csv.gz")


def test_docstring_examples_run():
    result = doctest.testmod(tsrnn.datasets, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_build_script_reproduces_the_bundled_file(tmp_path):
    if not BEIJING_SOURCE.is_dir():
        pytest.skip(f"UCI source files not found at {BEIJING_SOURCE} (../shared next to the repo)")
    spec = importlib.util.spec_from_file_location("build_beijing_pm25", BUILD_SCRIPT)
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)

    out = tmp_path / "beijing_pm25.csv.gz"
    build.main([str(BEIJING_SOURCE), "--out", str(out)])

    bundled = datasets.path("beijing_pm25").read_bytes()
    rebuilt = out.read_bytes()
    # Same CSV first, so a zlib that compresses differently reports itself as such.
    assert gzip.decompress(rebuilt) == gzip.decompress(bundled)
    assert rebuilt == bundled, (
        "same CSV, different gzip bytes: this zlib build compresses differently"
    )

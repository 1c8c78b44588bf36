"""Build ``datasets/beijing_pm25.csv.gz`` from the UCI Beijing Multi-Site Air-Quality files.

Usage::

    python datasets/build_beijing_pm25.py [SOURCE_DIR] [--out OUT]

``SOURCE_DIR`` holds the twelve ``PRSA_Data_<Station>_20130301-20170228.csv.gz`` files
(default: ``../shared/datasets/beijing_air`` next to the repository root). The output is the
long format tsrnn reads: ``unique_id`` (station), ``ds`` (hourly timestamp), ``y`` (PM2.5,
ug/m3), then the weather covariates TEMP, PRES, DEWP, RAIN, WSPM. Missing values stay missing
(empty fields). Rows are sorted by station, then time.

Rebuilding gives the same bytes: fixed float formatting, ``\\n`` line endings, and a gzip
header without file name or timestamp (``mtime=0``).
"""

from __future__ import annotations

import argparse
import gzip
import io
from pathlib import Path

import pandas as pd

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "datasets" / "beijing_air"
DEFAULT_OUT = Path(__file__).resolve().parent / "beijing_pm25.csv.gz"
N_STATIONS = 12
COVARIATES = ["TEMP", "PRES", "DEWP", "RAIN", "WSPM"]
# The readings have a resolution of 0.1; a few hundred source values are averages written with
# 15 significant digits (-0.533333333333333). Three decimals keeps quarters (17.775) exact and
# moves no value by more than 0.0005.
DECIMALS = 3


def build_frame(source: Path) -> pd.DataFrame:
    """Read the station files in ``source`` and return the sorted long DataFrame."""
    files = sorted(source.glob("PRSA_Data_*_20130301-20170228.csv.gz"))
    if len(files) != N_STATIONS:
        raise SystemExit(
            f"expected {N_STATIONS} PRSA_Data_*.csv.gz files in {source}, found {len(files)}"
        )
    columns = ["year", "month", "day", "hour", "PM2.5", *COVARIATES, "station"]
    raw = pd.concat(
        [pd.read_csv(f, usecols=columns, na_values=["NA"], keep_default_na=False) for f in files],
        ignore_index=True,
    )
    ds = pd.to_datetime(raw[["year", "month", "day", "hour"]])
    frame = pd.DataFrame(
        {"unique_id": raw["station"].astype(str), "ds": ds, "y": raw["PM2.5"].astype("float64")}
    )
    for name in COVARIATES:
        # + 0.0 turns the -0.0 that rounding can produce into 0.0, so it is written "0", not "-0".
        frame[name] = raw[name].astype("float64").round(DECIMALS) + 0.0
    frame = frame.sort_values(["unique_id", "ds"], kind="stable", ignore_index=True)
    if frame.duplicated(["unique_id", "ds"]).any():
        raise SystemExit(f"duplicate (station, hour) rows in {source}")
    return frame


def to_gzip_bytes(frame: pd.DataFrame) -> bytes:
    """Write ``frame`` as CSV and gzip it reproducibly (no file name, mtime 0)."""
    text = frame.to_csv(
        index=False,
        lineterminator="\n",
        date_format="%Y-%m-%d %H:%M:%S",
        # After rounding to DECIMALS every value has at most 7 significant digits, so %.10g is
        # exact and short: 4 not 4.0, 1012.4 not 1012.4000000000001.
        float_format="%.10g",
        na_rep="",
    )
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as gz:
        gz.write(text.encode("utf-8"))
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    frame = build_frame(args.source)
    data = to_gzip_bytes(frame)
    args.out.write_bytes(data)

    missing = frame["y"].isna().mean()
    print(f"wrote {args.out} ({len(data):,} bytes)")
    print(
        f"{len(frame):,} rows, {frame['unique_id'].nunique()} series, "
        f"{frame['ds'].min()} to {frame['ds'].max()}, y missing {missing:.2%}"
    )


if __name__ == "__main__":
    main()

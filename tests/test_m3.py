"""tsrnn.datasets.read_m3: the M3 files in long format with the series' real dates.

The shared M3 folder (``../shared/datasets/M3``) checks the reader against the published
scores: the submitted THETA forecasts, aligned by this reader, must give the sMAPE its
PUBLISHED.md recomputes. The small files written here check the dates without it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tsrnn import DataError
from tsrnn.datasets import read_m3
from tsrnn.evaluate.metrics import smape

M3 = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "M3"
needs_m3 = pytest.mark.skipif(
    not M3.exists(), reason=f"M3 data not found at {M3}: needs the shared M3 folder"
)


def write_m3(folder: Path) -> None:
    (folder / "Quarterly-train.csv").write_text("id,V1,V2,V3,V4\nA,1,2,3,\nB,5,6,7,8\n")
    (folder / "Quarterly-test.csv").write_text("id,V1,V2\nA,4,5\nB,9,10\n")
    (folder / "M3-info.csv").write_text(
        "id,st,sn,period,type,n,h,frequency,start_year,start_period,description\n"
        "A,Q1,A,QUARTERLY,MICRO,3,2,4,1984,3,x\n"
        "B,Q2,B,QUARTERLY,OTHER,4,2,4,1,2,y\n"
    )


def test_quarterly_dates_follow_the_info_file(tmp_path):
    write_m3(tmp_path)
    train, test = read_m3(tmp_path, "Quarterly")
    a = train[train.unique_id == "A"]
    assert a.ds.dt.strftime("%Y-%m").tolist() == ["1984-07", "1984-10", "1985-01"]
    assert a.y.tolist() == [1.0, 2.0, 3.0]  # the padding cell is no observation
    assert test[test.unique_id == "A"].ds.dt.strftime("%Y-%m").tolist() == ["1985-04", "1985-07"]
    # year 1 means unknown: the quarter is kept, the year set to 2000
    b = pd.concat([train, test])
    assert b[b.unique_id == "B"].ds.iloc[0] == pd.Timestamp("2000-04-01")
    quarters = b[b.unique_id == "B"].ds.dt.to_period("Q")
    assert (quarters.diff().iloc[1:].apply(lambda d: d.n) == 1).all()


def test_unknown_period_and_missing_files_name_the_fix(tmp_path):
    with pytest.raises(DataError, match="choose one of"):
        read_m3(tmp_path, "Weekly")
    with pytest.raises(DataError, match="Monthly-train.csv: no such M3 file"):
        read_m3(tmp_path, "Monthly")


@needs_m3
def test_monthly_reader_aligns_the_published_theta_forecasts():
    train, test = read_m3(M3, "Monthly")
    assert train.unique_id.nunique() == 1428 and len(test) == 1428 * 18
    last = train.groupby("unique_id").ds.max()
    first = test.groupby("unique_id").ds.min()
    assert ((first - last.reindex(first.index)).dt.days.between(28, 31)).all()
    published = pd.read_csv(M3 / "M3-published-forecasts.csv.gz")
    theta = published[published.method == "THETA"].set_index("id")
    y = test.y.to_numpy().reshape(1428, 18)
    f = theta.loc[test.unique_id.unique(), [f"F{k}" for k in range(1, 19)]].to_numpy()
    per_series = smape(y, f, axis=1)
    assert np.mean(per_series) == pytest.approx(13.89, abs=0.005)  # PUBLISHED.md, table B


def test_other_series_have_integer_steps_and_need_no_info_file(tmp_path):
    # M3's "other" series have no calendar: the step is all there is, and the info file
    # (each series' start date) is not needed to read them.
    (tmp_path / "Other-train.csv").write_text("id,V1,V2,V3\nA,1,2,\nB,5,6,7\n")
    (tmp_path / "Other-test.csv").write_text("id,V1,V2\nA,3,4\nB,8,9\n")
    train, test = read_m3(tmp_path, "Other")
    assert train.ds.dtype == np.int64
    assert train[train.unique_id == "A"].ds.tolist() == [0, 1]
    assert test[test.unique_id == "A"].ds.tolist() == [2, 3]  # continues after its own end
    assert test[test.unique_id == "B"].ds.tolist() == [3, 4]
    assert test[test.unique_id == "B"].y.tolist() == [8.0, 9.0]


@needs_m3
def test_other_reader_aligns_the_published_theta_forecasts():
    train, test = read_m3(M3, "Other")
    assert train.unique_id.nunique() == 174 and len(test) == 174 * 8
    published = pd.read_csv(M3 / "M3-published-forecasts.csv.gz")
    theta = published[published.method == "THETA"].set_index("id")
    y = test.y.to_numpy().reshape(174, 8)
    f = theta.loc[test.unique_id.unique(), [f"F{k}" for k in range(1, 9)]].to_numpy()
    assert np.mean(smape(y, f, axis=1)) == pytest.approx(4.41, abs=0.005)  # PUBLISHED.md

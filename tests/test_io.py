"""read_csv: layout and column inference, regularization, the report, and errors users can act on.

Every test writes a real CSV file to ``tmp_path`` and reads it back as a user would.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tsrnn
from tsrnn import DataError, Panel, read_csv
from tsrnn.data import io


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def values(panel: Panel, i: int) -> list[float | None]:
    """Series ``i`` as a list, ``None`` where missing, so assertions read naturally."""
    return [None if np.isnan(v) else float(v) for v in panel.series_values(i)]


# ---------------------------------------------------------------------- layout and columns
def test_long_file_infers_id_time_target_and_numeric_covariates(tmp_path):
    path = write(
        tmp_path,
        "unique_id,ds,y,temp,wd\n"
        "a,2024-01-01,1,10,NW\na,2024-01-02,2,11,NE\n"
        "b,2024-01-01,5,20,SE\nb,2024-01-02,6,21,SE\nb,2024-01-03,7,22,S\n",
    )
    panel, report = read_csv(path)
    assert (report.layout, report.id_col, report.time_col, report.target_col) == (
        "long",
        "unique_id",
        "ds",
        "y",
    )
    assert report.past_covariates == ("temp",) and panel.past_covariates == ("temp",)
    assert report.ignored_columns == {"wd": "not numeric"}
    assert list(panel.ids) == ["a", "b"] and panel.lengths.tolist() == [2, 3]
    assert values(panel, 1) == [5.0, 6.0, 7.0]
    assert panel.covariates[:, 0].tolist() == [10, 11, 20, 21, 22]
    assert panel.freq == "D"


def test_station_column_is_the_id_and_the_one_numeric_column_the_target(tmp_path):
    path = write(
        tmp_path,
        "station,datetime,PM2.5\nX,2024-01-01 00:00,3\nX,2024-01-01 01:00,4\n"
        "Y,2024-01-01 00:00,8\n",
    )
    panel, report = read_csv(path)
    assert (report.id_col, report.time_col, report.target_col) == ("station", "datetime", "PM2.5")
    assert list(panel.ids) == ["X", "Y"] and panel.freq == "h"


def test_repeated_timestamps_and_one_text_column_make_that_column_the_id(tmp_path):
    path = write(
        tmp_path,
        "city,when,level\nrome,2024-01-01,1\nparis,2024-01-01,2\n"
        "rome,2024-01-02,3\nparis,2024-01-02,4\n",
    )
    panel, report = read_csv(path)
    assert report.layout == "long" and report.id_col == "city" and report.time_col == "when"
    assert list(panel.ids) == ["paris", "rome"]


def test_wide_file_makes_one_series_per_numeric_column(tmp_path):
    # c starts late and b ends early: empty cells outside a series are not part of it.
    path = write(
        tmp_path,
        "date,a,b,c\n2024-01-01,1,5,\n2024-01-02,2,NA,\n2024-01-03,3,6,9\n2024-01-04,4,,10\n",
    )
    panel, report = read_csv(path)
    assert report.layout == "wide" and report.series_columns == ("a", "b", "c")
    assert report.target_col is None and report.id_col is None
    assert list(panel.ids) == ["a", "b", "c"] and panel.lengths.tolist() == [4, 3, 2]
    assert values(panel, 1) == [5.0, None, 6.0]
    assert str(panel.starts[2].date()) == "2024-01-03"
    assert report.coerced_cells == {"b": 1}  # only the NA inside b's span


@pytest.mark.parametrize(
    "header",
    ["id,V1,V2,V3,V4,V5", '"V1","V2","V3","V4","V5","V6"', "country,2001,2002,2003,2004,2005"],
)
def test_a_row_per_series_file_is_read_as_the_m4_files_are(tmp_path, header):
    # M3/M4 as published: an id, then the values; short rows padded with empty cells
    path = write(tmp_path, f"{header}\nQ1,1,2,,4,5\n\nQ2,7,8,9,,\n")
    panel, report = read_csv(path)
    assert report.layout == "rows" and report.rows == 3 and report.blank_lines == 1
    assert panel.ids.tolist() == ["Q1", "Q2"] and panel.lengths.tolist() == [5, 3]
    assert values(panel, 0) == [1.0, 2.0, None, 4.0, 5.0]  # inside a row: missing
    assert values(panel, 1) == [7.0, 8.0, 9.0]  # after its last value: past its end
    assert panel.freq == 1 and "one series per row" in report.to_markdown()
    assert "integer time steps carry no calendar" in report.to_markdown()
    frame = panel.to_long()
    start = 2001 if header.startswith("country") else 1  # bare numbers name the steps
    assert frame["ds"].tolist()[:3] == [start, start + 1, start + 2]


def test_a_row_per_series_file_may_number_its_series(tmp_path):
    # ids 1, 2, ... in a column named as ids are: still one series per row, ids as text
    panel, report = read_csv(write(tmp_path, "series_id,V1,V2,V3\n1,5,6,7\n2,8,9,\n"))
    assert report.layout == "rows" and panel.ids.tolist() == ["1", "2"]
    assert values(panel, 1) == [8.0, 9.0]


@pytest.mark.parametrize(
    "text, message",
    [
        ("id,V1,V2,V3\nA,1,2,3\nB,4,x,6\n", "line 3, column 'V2': 'x' is not a number"),
        ("id,V1,V2,V3\nA,1,2,3\nA,4,5,6\n", "line 3: series 'A' has a row already (line 2)"),
        ("id,V1,V2,V3\nA,1,2,3\nB,,,\n", "line 3: series 'B' has no value"),
        ("id,V1,V2,V3\nA,1,2,3\n,4,5,6\n", "line 3: no series id in column 'id'"),
    ],
)
def test_a_row_per_series_file_names_the_bad_row(tmp_path, text, message):
    with pytest.raises(DataError, match=re.escape(message)):
        read_csv(write(tmp_path, text))


def test_single_series_is_named_after_its_column(tmp_path):
    path = write(tmp_path, "Month,Passengers\n1949-01,112\n1949-02,118\n1949-03,132\n")
    panel, report = read_csv(path)
    assert report.layout == "single" and report.series_columns == ("Passengers",)
    assert list(panel.ids) == ["Passengers"] and panel.freq == "MS"
    assert report.season_length == 12


def test_single_series_with_a_y_column_keeps_the_others_as_covariates(tmp_path):
    path = write(tmp_path, "ds,y,temp\n2024-01-01,1,3.5\n2024-01-02,2,4.5\n")
    panel, report = read_csv(path)
    assert report.layout == "single" and report.target_col == "y"
    assert panel.covariate_names == ("temp",)


def test_time_column_is_found_by_its_contents_when_its_name_says_nothing(tmp_path):
    path = write(tmp_path, "when,level\n2024-03-01,1\n2024-03-02,2\n2024-03-03,3\n")
    _, report = read_csv(path)
    assert report.time_col == "when" and report.target_col == "level"


def test_saved_index_column_is_ignored_as_a_row_number(tmp_path):
    df = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=4, freq="D"), "y": [1, 2, 3, 4]})
    df.to_csv(tmp_path / "indexed.csv")  # writes an unnamed 0, 1, 2, 3 column first
    panel, report = read_csv(tmp_path / "indexed.csv")
    assert report.ignored_columns == {"Unnamed: 0": "row number"}
    assert values(panel, 0) == [1.0, 2.0, 3.0, 4.0]


def test_arguments_override_inference(tmp_path):
    path = write(tmp_path, "k,when,x,z\np,2024-01-01,1,7\np,2024-01-02,2,8\nq,2024-01-01,3,9\n")
    panel, report = read_csv(path, id_col="k", time_col="when", target_col="z")
    assert (report.layout, report.target_col, report.past_covariates) == ("long", "z", ("x",))
    assert values(panel, 0) == [7.0, 8.0]


def test_covariates_list_and_dict_choose_and_mark_known_future_columns(tmp_path):
    text = "id,ds,y,temp,holiday,noise\n" + "".join(
        f"s,2024-01-0{d},{d},{d * 2},{d % 2},{d * 3}\n" for d in range(1, 5)
    )
    path = write(tmp_path, text)
    panel, report = read_csv(path, covariates=["temp"])
    assert panel.covariate_names == ("temp",)
    assert report.ignored_columns == {
        "holiday": "not in covariates=",
        "noise": "not in covariates=",
    }
    panel, report = read_csv(path, covariates={"past": ["temp"], "future": ["holiday"]})
    assert panel.future_covariates == ("holiday",) and panel.past_covariates == ("temp",)
    assert report.future_covariates == ("holiday",)


# ---------------------------------------------------------------------- file formats
def test_semicolon_file_with_decimal_comma(tmp_path):
    path = write(tmp_path, "id;ds;y\na;2024-01-01;1,5\na;2024-01-02;-2,25\na;2024-01-03;3\n")
    panel, report = read_csv(path)
    assert (report.delimiter, report.decimal) == (";", ",")
    assert values(panel, 0) == [1.5, -2.25, 3.0]


@pytest.mark.parametrize("sep", ["\t", "|"])
def test_tab_and_pipe_delimiters(tmp_path, sep):
    path = write(
        tmp_path, sep.join(["ds", "y"]) + "\n2024-01-01" + sep + "1.5\n2024-01-02" + sep + "2\n"
    )
    panel, report = read_csv(path)
    assert report.delimiter == sep and values(panel, 0) == [1.5, 2.0]


def test_integer_time_steps_with_a_gap(tmp_path):
    path = write(tmp_path, "id,step,y\na,0,1\na,5,2\na,15,4\nb,5,7\nb,10,8\n")
    panel, report = read_csv(path)
    assert panel.freq == 5 and not panel.is_datetime
    assert panel.starts.tolist() == [0, 5] and values(panel, 0) == [1.0, 2.0, None, 4.0]
    assert report.gaps_inserted == 1 and report.season_length == 1
    assert read_csv(path, freq="5")[0].freq == 5  # as the command line passes it


def test_yyyymmdd_integers_are_read_as_dates(tmp_path):
    path = write(tmp_path, "ds,y\n20240130,1\n20240131,2\n20240201,3\n")
    panel, _ = read_csv(path)
    assert panel.freq == "D" and panel.lengths.tolist() == [3]


def test_gzip_file_is_read_directly(tmp_path):
    path = tmp_path / "data.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write("ds,y\n2024-01-01,1\n2024-01-02,2\n")
    panel, _ = read_csv(path)
    assert values(panel, 0) == [1.0, 2.0]


def test_file_that_is_not_utf8_is_read_as_latin1_and_says_so(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(
        "station,ds,y\nM\xfcnchen,2024-01-01,1\nM\xfcnchen,2024-01-02,2\n".encode("latin-1")
    )
    panel, report = read_csv(path)
    assert list(panel.ids) == ["M\xfcnchen"] and report.encoding == "latin-1"
    assert "latin-1" in report.to_markdown()


# ---------------------------------------------------------------------- what reading changes
def test_missing_timestamps_become_nan_gaps_counted_in_the_report(tmp_path):
    path = write(
        tmp_path,
        "id,ds,y\na,2024-01-01 00:00,1\na,2024-01-01 03:00,4\na,2024-01-01 04:00,5\n"
        "b,2024-01-01 00:00,1\nb,2024-01-01 01:00,2\n",
    )
    panel, report = read_csv(path)
    assert values(panel, 0) == [1.0, None, None, 4.0, 5.0]
    assert panel.observed[:5].tolist() == [True, False, False, True, True]
    assert report.gaps_inserted == 2
    assert report.missing_target_pct == pytest.approx(100 * 2 / 7)


def test_identical_duplicates_are_merged_and_counted(tmp_path):
    path = write(tmp_path, "id,ds,y\na,2024-01-01,1\na,2024-01-02,2\na,2024-01-02,2\n")
    panel, report = read_csv(path)
    assert values(panel, 0) == [1.0, 2.0]
    assert report.duplicates_merged == 1 and report.gaps_inserted == 0


def test_na_markers_are_read_as_missing_and_counted_as_coerced(tmp_path):
    markers = ["NA", "", "null", "nan", "-", "?"]
    rows = "".join(f"2024-01-{d:02d},{m}\n" for d, m in enumerate(markers, start=2))
    path = write(tmp_path, "ds,y\n2024-01-01,1\n" + rows + "2024-01-08,8\n")
    panel, report = read_csv(path)
    assert report.coerced_cells == {"y": 6}
    assert panel.observed.tolist() == [True] + [False] * 6 + [True]
    assert report.gaps_inserted == 0


def test_blank_lines_are_skipped_counted_and_do_not_shift_line_numbers(tmp_path):
    path = write(tmp_path, "ds,y\n2024-01-01,1\n\n2024-01-02,2\n2024-01-03,oops\n\n")
    with pytest.raises(DataError, match="line 5, column 'y'"):
        read_csv(path)
    path = write(tmp_path, "ds,y\n2024-01-01,1\n\n2024-01-02,2\n\n", name="ok.csv")
    panel, report = read_csv(path)
    assert report.blank_lines == 2 and report.rows == 4 and values(panel, 0) == [1.0, 2.0]


def test_reading_prints_nothing(tmp_path, capsys):
    read_csv(write(tmp_path, "ds,y\n2024-01-01,1\n2024-01-02,2\n"))
    assert capsys.readouterr() == ("", "")


# ---------------------------------------------------------------------- the report
def test_report_describes_series_lengths_span_frequency_and_seasonality(tmp_path):
    hours = pd.date_range("2024-01-01", periods=24 * 14, freq="h")
    rng = np.random.default_rng(0)
    daily = 10 * np.sin(2 * np.pi * np.arange(len(hours)) / 24)
    frames = [
        pd.DataFrame({"unique_id": "long", "ds": hours, "y": daily + rng.normal(size=len(hours))}),
        pd.DataFrame({"unique_id": "short", "ds": hours[:48], "y": daily[:48]}),
        pd.DataFrame({"unique_id": "flat", "ds": hours[:30], "y": 3.0}),
    ]
    path = tmp_path / "hourly.csv"
    pd.concat(frames).to_csv(path, index=False)
    _, report = read_csv(path)
    assert report.n_series == 3 and report.freq == "h" and report.season_length == 24
    assert (report.length_min, report.length_median, report.length_max) == (30, 48.0, 336)
    assert report.seasonality_confirmed is True and report.seasonal_acf > 0.3
    assert report.constant_series == ("flat",)
    by_id = {s.id: s for s in report.series}
    assert by_id["short"].start == pd.Timestamp("2024-01-01")
    assert by_id["short"].end == pd.Timestamp("2024-01-02 23:00")
    assert report.start == hours[0] and report.end == hours[-1]
    assert report.series_freqs == {}  # all series agree
    table = report.series_frame()
    assert table.set_index("id").loc["short", ["length", "observed"]].tolist() == [48, 48]

    as_json = json.loads(json.dumps(report.to_dict()))
    assert as_json["layout"] == "long" and as_json["length_max"] == 336
    assert as_json["series"][0]["start"] == "2024-01-01T00:00:00"
    text = str(report)
    assert text == report.to_markdown() and text.startswith("# Data report: hourly.csv")
    assert "| series | 3; length 30 / 48 / 336 (min / median / max) |" in text
    assert "season length 24, confirmed" in text and "`flat`" in text
    assert report.nonnegative is False and "| non-negative | no: some observed values" in text


def test_report_says_when_every_observed_value_is_non_negative(tmp_path):
    path = write(tmp_path, "ds,y\n2024-01-01,0\n2024-01-02,\n2024-01-03,4.5\n")
    _, report = read_csv(path)
    assert report.nonnegative is True and report.to_dict()["nonnegative"] is True
    assert "| non-negative | yes: every observed value is >= 0" in report.to_markdown()


def test_report_lists_per_series_frequencies_when_they_differ(tmp_path):
    path = write(
        tmp_path,
        "id,ds,y\na,2024-01-01 00:00,1\na,2024-01-01 02:00,2\n"
        "b,2024-01-01 00:00,1\nb,2024-01-01 01:00,2\n",
    )
    panel, report = read_csv(path)
    assert panel.freq == "h" and report.series_freqs == {"a": "2h", "b": "h"}
    assert "series differ" in report.to_markdown()


# ---------------------------------------------------------------------- round trip
def test_round_trip_through_to_long_keeps_values_observed_ids_and_starts(tmp_path):
    df = pd.DataFrame(
        {
            "unique_id": ["s1"] * 4 + ["s2"] * 3,
            "ds": pd.to_datetime(
                [
                    "2024-01-01 00:00",
                    "2024-01-01 01:00",
                    "2024-01-01 03:00",
                    "2024-01-01 04:00",
                    "2024-01-01 02:00",
                    "2024-01-01 03:00",
                    "2024-01-01 05:00",
                ]
            ),
            "y": [1.5, np.nan, 3.25, 4.0, -1.0, 0.0, 2.0],
            "temp": [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5],
        }
    )
    panel = Panel.from_long(df, past_covariates=["temp"])
    path = tmp_path / "panel.csv"
    panel.to_long().to_csv(path, index=False)
    back, report = read_csv(path)
    np.testing.assert_array_equal(back.values, panel.values)  # NaN compares equal here
    np.testing.assert_array_equal(back.observed, panel.observed)
    np.testing.assert_array_equal(back.covariates, panel.covariates)
    assert list(back.ids) == list(panel.ids) and back.starts.equals(panel.starts)
    assert back.freq == panel.freq and back.covariate_names == ("temp",)
    assert report.gaps_inserted == 0  # to_long writes the gaps as empty cells


def test_round_trip_with_integer_time(tmp_path):
    panel = Panel.from_arrays(
        [[1.0, 2.0, np.nan, 4.0], [5.0, 6.0]], ids=["x", "y"], starts=[10, 12], freq=2
    )
    path = tmp_path / "steps.csv"
    panel.to_long().to_csv(path, index=False)
    back, _ = read_csv(path)
    np.testing.assert_array_equal(back.values, panel.values)
    assert back.freq == 2 and back.starts.tolist() == [10, 12] and list(back.ids) == ["x", "y"]


# ---------------------------------------------------------------------- large files in batches
def test_values_keep_every_digit_the_file_gives(tmp_path):
    """float32 would read 100000005.9 as 100000008.0; a Panel keeps what the file says."""
    lines = [f"2024-01-{d + 1:02d},{100000000.9 + d:.1f},{0.1 + 1e9 + d:.1f}" for d in range(6)]
    path = write(tmp_path, "ds,y,load\n" + "\n".join(lines) + "\n")
    panel, _ = read_csv(path)
    assert panel.values.dtype == np.float64 and panel.covariates.dtype == np.float64
    assert panel.values[-1] == 100000005.9
    assert panel.values.tolist() == [100000000.9 + d for d in range(6)]
    assert panel.covariates[-1, 0] == 1000000005.1


def test_batched_reading_gives_the_same_panel(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    rows = [
        (f"s{i:02d}", t, rng.normal())
        for i in range(12)
        for t in pd.date_range("2024-01-01", periods=10 + i, freq="h")
        if rng.random() > 0.1
    ]
    path = tmp_path / "many.csv"
    pd.DataFrame(rows, columns=["unique_id", "ds", "y"]).sample(frac=1, random_state=0).to_csv(
        path, index=False
    )
    whole, whole_report = read_csv(path)
    monkeypatch.setattr(io, "_BATCH_ROWS", 15)
    monkeypatch.setattr(io, "_CHUNK_ROWS", 7)
    batched, batched_report = read_csv(path)
    np.testing.assert_array_equal(batched.values, whole.values)
    np.testing.assert_array_equal(batched.offsets, whole.offsets)
    assert list(batched.ids) == list(whole.ids) and batched.starts.equals(whole.starts)
    assert batched_report.to_dict() == whole_report.to_dict()


def test_batches_with_different_grids_settle_on_the_common_one(tmp_path, monkeypatch):
    path = write(
        tmp_path,
        "id,ds,y\na,2024-01-01 00:00,1\na,2024-01-01 02:00,2\n"
        "b,2024-01-01 00:00,1\nb,2024-01-01 01:00,2\n",
    )
    monkeypatch.setattr(io, "_BATCH_ROWS", 1)
    panel, _ = read_csv(path)
    assert panel.freq == "h" and panel.lengths.tolist() == [3, 2]


def test_a_batch_that_fits_no_grid_alone_is_settled_by_all_series(tmp_path, monkeypatch):
    # Series a has one point: alone, its batch cannot infer a grid; with b it is hourly.
    path = write(
        tmp_path,
        "id,ds,y\na,2024-01-01 05:00,1\n"
        "b,2024-01-01 00:00,1\nb,2024-01-01 01:00,2\nb,2024-01-01 03:00,4\n",
    )
    whole, whole_report = read_csv(path)
    monkeypatch.setattr(io, "_BATCH_ROWS", 1)
    batched, batched_report = read_csv(path)
    assert batched.freq == "h" and batched.lengths.tolist() == [1, 4]
    np.testing.assert_array_equal(batched.values, whole.values)
    assert batched_report.to_dict() == whole_report.to_dict()


def test_a_batch_off_the_given_grid_names_the_line(tmp_path, monkeypatch):
    path = write(
        tmp_path,
        "id,ds,y\na,2024-01-01 00:00,1\na,2024-01-01 01:00,2\n"
        "b,2024-01-01 00:00,1\nb,2024-01-01 00:30,2\n",
    )
    monkeypatch.setattr(io, "_BATCH_ROWS", 2)
    with pytest.raises(DataError, match=r"series 'b' at 2024-01-01 00:30:00 \(line 5\) is off"):
        read_csv(path, freq="h")


@pytest.mark.parametrize(
    "text",
    [
        "id,ds,y,temp\n"
        + "".join(
            f"{s},2024-01-0{d},{d},{d * 2 if d != 2 else 'NA'}\n" for s in "abc" for d in (1, 2, 4)
        ),
        "ds,a,b,c\n2024-01-01,1,5,\n2024-01-02,2,NA,\n2024-01-03,3,6,9\n2024-01-04,4,,10\n",
    ],
    ids=["long-with-covariate", "wide"],
)
def test_batched_reading_keeps_covariates_and_wide_columns(tmp_path, monkeypatch, text):
    path = write(tmp_path, text)
    whole, whole_report = read_csv(path)
    monkeypatch.setattr(io, "_BATCH_ROWS", 3)
    batched, batched_report = read_csv(path)
    for name in ("values", "observed", "covariates", "offsets"):
        np.testing.assert_array_equal(getattr(batched, name), getattr(whole, name))
    assert list(batched.ids) == list(whole.ids) and batched.starts.equals(whole.starts)
    assert batched_report.to_dict() == whole_report.to_dict()


def _long_csv(ids, periods, freq="h", start="2024-01-01", drop=(), extra=""):
    rows = [
        f"{s},{t},{k if (s, k) != (ids[0], 3) else 'NA'},{k * 0.5},{-k}"
        for s in ids
        for k, t in enumerate(pd.date_range(start, periods=periods, freq=freq))
        if (s, k) not in drop
    ]
    return "id,ds,y,temp,promo\n" + "\n".join(rows) + "\n" + extra


@pytest.mark.parametrize(
    ("text", "kwargs", "quick"),
    [
        (
            _long_csv(["a", "b", "c"], 6),
            {"covariates": {"past": ["temp"], "future": ["promo"]}},
            True,
        ),
        (_long_csv(["a", "b"], 5, "D"), {}, True),
        (_long_csv(["a", "b"], 5, "15min"), {"freq": "15min"}, True),
        (
            "id,step,y\n" + "".join(f"{s},{10 + 5 * k},{k}\n" for s in "ab" for k in range(4)),
            {},
            True,
        ),
        (_long_csv(["b", "a"], 4), {}, False),  # ids not in sorted order
        (_long_csv(["s9", "s10"], 4), {}, False),  # sorted as numbers, not as text
        (_long_csv(["a", "b"], 7, drop={("b", 0), ("b", 2)}), {"covariates": ["temp"]}, True),
        (_long_csv(["a", "b"], 5, drop={("b", 0), ("b", 2)}), {}, False),  # steps 2, 1: a tie
        (_long_csv(["a", "b"], 12, "D", drop={("a", 4), ("b", 1)}), {}, True),  # daily, gaps
        (_long_csv(["a", "b"], 12, "B", drop={("a", 4), ("b", 1)}), {}, False),  # business
        (_long_csv(["a"], 6) + _long_csv(["b"], 3, "2h").split("\n", 1)[1], {}, False),  # 2h
        (_long_csv(["a", "b"], 5, "MS"), {}, False),  # a calendar grid
        (_long_csv(["a", "b"], 4, extra="a,2024-01-01 04:00:00,9,1,1\n"), {}, False),  # split
        (_long_csv(["a", "b"], 4, extra="b,2024-01-01 03:00:00,3,1.5,-3\n"), {}, False),  # twice
        (_long_csv(["a", "b"], 4, freq="h"), {"freq": "30min"}, False),  # another grid
        (_long_csv(["a", "b"], 4) + "c,2024-01-01 00:00:00,1,1,1\n", {}, False),  # one point
    ],
    ids=[
        "hourly-covariates",
        "daily",
        "given-freq",
        "integer-steps",
        "unsorted-ids",
        "text-order",
        "later-start-and-gap",
        "tied-steps",
        "daily-gaps",
        "business-days",
        "two-hourly",
        "monthly",
        "split-series",
        "duplicate",
        "finer-freq",
        "one-point",
    ],
)
def test_sorted_files_skip_the_regularizer_with_the_same_panel(
    tmp_path, monkeypatch, text, kwargs, quick
):
    """Rows written sorted by series and time (most large exports), with or without gaps, skip
    build_panel's sort and grid search in read_csv and read_parquet. Whether or not they do,
    the panel and the report are those build_panel gives."""
    path = write(tmp_path, text)
    taken = []
    build_sorted = io.build_sorted

    def spy(*args, **kw):
        result = build_sorted(*args, **kw)
        taken.append(result is not None)
        return result

    monkeypatch.setattr(io, "build_sorted", spy)
    panel, report = read_csv(path, **kwargs)
    assert taken == [quick]
    monkeypatch.setattr(io, "build_sorted", lambda *a, **kw: None)
    slow, slow_report = read_csv(path, **kwargs)
    for name in ("values", "observed", "covariates", "offsets"):
        got, want = getattr(panel, name), getattr(slow, name)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    assert list(panel.ids) == list(slow.ids) and panel.starts.equals(slow.starts)
    assert (panel.freq, panel.covariate_names, panel.future_covariates) == (
        slow.freq,
        slow.covariate_names,
        slow.future_covariates,
    )
    assert report.to_dict() == slow_report.to_dict()


# ---------------------------------------------------------------------- bad input
def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv: the file does not exist; check the path"):
        read_csv(tmp_path / "nope.csv")


def test_empty_file(tmp_path):
    with pytest.raises(DataError, match="data.csv: the file is empty"):
        read_csv(write(tmp_path, ""))


def test_header_only(tmp_path):
    with pytest.raises(DataError, match=r"has a header \(ds, y\) but no data rows"):
        read_csv(write(tmp_path, "ds,y\n"))


def test_no_numeric_column(tmp_path):
    with pytest.raises(DataError, match="no numeric column to forecast"):
        read_csv(write(tmp_path, "ds,label\n2024-01-01,up\n2024-01-02,down\n"))


def test_two_candidate_targets_in_a_long_file(tmp_path):
    path = write(tmp_path, "id,ds,pm25,pm10\na,2024-01-01,1,2\na,2024-01-02,3,4\n")
    with pytest.raises(DataError) as err:
        read_csv(path)
    assert "['pm25', 'pm10'] are all numeric" in str(err.value)
    assert "target_col=" in str(err.value) and "data.csv" in str(err.value)


def test_two_candidate_id_columns(tmp_path):
    path = write(tmp_path, "store_id,item_id,ds,y\n1,1,2024-01-01,1\n")
    with pytest.raises(DataError, match=r"\['store_id', 'item_id'\] all qualify; pass id_col="):
        read_csv(path)


def test_two_candidate_time_columns(tmp_path):
    path = write(tmp_path, "start,end,y\n2024-01-01,2024-01-02,1\n2024-01-02,2024-01-03,2\n")
    with pytest.raises(DataError, match=r"\['start', 'end'\] all qualify; pass time_col="):
        read_csv(path)


def test_no_time_column(tmp_path):
    with pytest.raises(DataError, match="no time column.*pass time_col="):
        read_csv(write(tmp_path, "a,b\n1,2\n3,4\n"))


def test_override_naming_an_absent_column_lists_the_columns(tmp_path):
    path = write(tmp_path, "ds,y\n2024-01-01,1\n")
    with pytest.raises(
        DataError, match=r"no column 'Y' \(target_col=\); the columns are \['ds', 'y'\]"
    ):
        read_csv(path, target_col="Y")
    with pytest.raises(DataError, match=r"no column 'tmp' \(covariates=\)"):
        read_csv(path, covariates=["tmp"])


def test_unparseable_timestamp_names_line_and_value(tmp_path):
    path = write(tmp_path, "ds,y\n2024-01-01,1\n2024-01-02,2\n2024-13-45,3\n")
    with pytest.raises(DataError) as err:
        read_csv(path)
    assert "data.csv, line 4, column 'ds': cannot read '2024-13-45' as a timestamp" in str(
        err.value
    )


def test_missing_timestamp_names_the_line(tmp_path):
    path = write(tmp_path, "ds,y\n2024-01-01,1\n,2\n")
    with pytest.raises(DataError, match="line 3: no timestamp in column 'ds'"):
        read_csv(path)


def test_missing_series_id_names_the_line(tmp_path):
    path = write(tmp_path, "id,ds,y\na,2024-01-01,1\n,2024-01-02,2\n")
    with pytest.raises(DataError, match="line 3: no series id in column 'id'"):
        read_csv(path)


@pytest.mark.parametrize("word", ["NA", "null", "nan"])
def test_an_id_written_as_a_missing_marker_is_no_id_as_in_the_values(tmp_path, word):
    """``NA`` is a missing value in y; as a series id it is no name either, not a series
    called "NA": refused, naming the first line and how many there are."""
    rows = "".join(f"a,2024-01-0{d},{d}\n{word},2024-01-0{d},{d + 9}\n" for d in range(1, 4))
    path = write(tmp_path, "id,ds,y\n" + rows)
    with pytest.raises(DataError) as err:
        read_csv(path)
    text = str(err.value)
    assert f"line 3: series id {word!r} in column 'id' is a missing-value marker" in text
    assert "(3 such lines)" in text and f"write it e.g. '{word}_'" in text
    panel, _ = read_csv(write(tmp_path, "id,ds,y\n" + rows.replace(f"{word},", "NA_,"), "b.csv"))
    assert sorted(panel.ids) == ["NA_", "a"]


def test_conflicting_duplicates_name_both_lines(tmp_path):
    path = write(tmp_path, "id,ds,y\na,2024-01-01,1\na,2024-01-02,2\na,2024-01-01,9\n")
    with pytest.raises(DataError) as err:
        read_csv(path)
    message = str(err.value)
    assert "data.csv: series 'a' has two different values at 2024-01-01" in message
    assert "lines 2 and 4" in message and "deduplicate" in message


def test_repeated_timestamps_without_an_id_column_suggest_id_col(tmp_path):
    path = write(tmp_path, "code,ds,y\n7,2024-01-01,1\n8,2024-01-01,2\n", name="noid.csv")
    with pytest.raises(DataError, match="two different values.*id_col="):
        read_csv(path, target_col="y", covariates=[])


def test_non_numeric_target_cell_names_line_column_and_value(tmp_path):
    path = write(tmp_path, "id,ds,y\na,2024-01-01,1\na,2024-01-02,n/d\n")
    with pytest.raises(DataError) as err:
        read_csv(path)
    assert "data.csv, line 3, column 'y': 'n/d' is not a number; clean that cell" in str(err.value)


def test_decimal_point_in_a_decimal_comma_file_is_reported(tmp_path):
    path = write(tmp_path, "ds;y\n2024-01-01;1,5\n2024-01-02;2,5\n2024-01-03;3.5\n")
    with pytest.raises(
        DataError,
        match=r"line 4, column 'y': '3\.5' is not a number \(this file "
        r"uses a decimal comma\)",
    ):
        read_csv(path)


@pytest.mark.parametrize("cell", ["inf", "-1e400"])
def test_infinite_value_names_line_and_column(tmp_path, cell):
    path = write(tmp_path, f"ds,y\n2024-01-01,1\n2024-01-02,{cell}\n")
    with pytest.raises(DataError, match="line 3, column 'y': infinite value"):
        read_csv(path)


def test_numbers_beyond_float32_but_within_float64_are_read(tmp_path):
    panel, _ = read_csv(write(tmp_path, "ds,y\n2024-01-01,1\n2024-01-02,3.5e39\n"))
    assert panel.values.tolist() == [1.0, 3.5e39]


def test_malformed_line_is_named(tmp_path):
    path = write(tmp_path, "ds,y\n2024-01-01,1\n2024-01-02,2,3\n")
    with pytest.raises(DataError, match="malformed CSV: Expected 2 fields in line 3, saw 3"):
        read_csv(path)


def test_timestamps_that_fit_no_frequency(tmp_path):
    path = write(
        tmp_path,
        "ds,y\n2024-01-01 00:00,1\n2024-01-01 01:00,2\n2024-01-01 02:00,3\n2024-01-01 02:25,4\n",
    )
    with pytest.raises(DataError, match="cannot infer a frequency.*pass freq="):
        read_csv(path)


def test_timestamp_off_the_given_grid_names_the_line(tmp_path):
    path = write(tmp_path, "ds,y\n2024-01-01 00:00,1\n2024-01-01 01:00,2\n2024-01-01 01:30,3\n")
    with pytest.raises(DataError, match=r"at 2024-01-01 01:30:00 \(line 4\) is off its 'h' grid"):
        read_csv(path, freq="h")


def hourly_and(tmp_path, name: str, times: pd.DatetimeIndex):
    """Two hourly series, A and B (48 hours), and series ``name`` at ``times``."""
    hours = pd.date_range("2024-01-01", periods=48, freq="h")
    rows = [f"{sid},{t},{k}" for sid in "AB" for k, t in enumerate(hours)]
    rows += [f"{name},{t},{k}" for k, t in enumerate(times)]
    return write(tmp_path, "unique_id,ds,y\n" + "\n".join(rows) + "\n")


def test_one_series_on_a_minute_grid_among_hourly_ones_is_named(tmp_path):
    """A common minute grid would leave the hourly series 98 % missing: refuse, naming C."""
    path = hourly_and(tmp_path, "C", pd.date_range("2024-01-01", periods=90, freq="min"))
    with pytest.raises(DataError) as caught:
        read_csv(path)
    message = str(caught.value)
    assert str(path) in message and "['C'] (1 of 3)" in message
    assert "'min' grid" in message and "98% missing" in message and "pass freq='h'" in message


def test_one_daily_series_among_hourly_ones_is_named_unless_freq_says(tmp_path):
    """On the hourly grid the daily series would be 96 % missing: refuse, naming it; with
    freq='h' the user has said so, and its days are hours apart with gaps between."""
    path = hourly_and(tmp_path, "daily", pd.date_range("2024-01-01", periods=8, freq="D"))
    with pytest.raises(DataError) as caught:
        read_csv(path)
    message = str(caught.value)
    assert str(path) in message and "['daily'] (1 of 3) are on a 'D' grid" in message
    assert "the others on 'h'" in message and "96% missing" in message
    assert "pass freq='h' to keep them on it" in message
    panel, _ = read_csv(path, freq="h")
    assert panel.freq == "h" and panel.lengths.tolist() == [48, 48, 169]


def test_freq_of_the_wrong_kind(tmp_path):
    path = write(tmp_path, "ds,y\n2024-01-01,1\n2024-01-02,2\n")
    with pytest.raises(
        DataError, match="freq=2 is an integer step but the time column holds dates"
    ):
        read_csv(path, freq=2)
    with pytest.raises(DataError, match="'daily' is not a pandas frequency alias"):
        read_csv(path, freq="daily")


def test_series_without_any_observed_value(tmp_path):
    path = write(tmp_path, "id,ds,y\na,2024-01-01,1\na,2024-01-02,2\nb,2024-01-01,NA\n")
    with pytest.raises(DataError, match=r"series \['b'\] have no observed value in 'y'"):
        read_csv(path)


def test_wide_column_without_any_value(tmp_path):
    path = write(tmp_path, "ds,a,b\n2024-01-01,1,\n2024-01-02,2,NA\n")
    with pytest.raises(DataError, match="column 'b' has no value"):
        read_csv(path)


def test_data_error_is_a_value_error():
    assert issubclass(tsrnn.DataError, ValueError)


def test_columns_joined_and_codes_counted_a_slice_at_a_time_match_numpy():
    from tsrnn.data.io import _join, count_codes

    rng = np.random.default_rng(0)
    parts = [rng.normal(size=k) for k in (5, 0, 17, 3)]
    expected = np.concatenate(parts)
    np.testing.assert_array_equal(_join(list(parts)), expected)
    codes = rng.integers(0, 40, size=(1 << 22) + 99).astype(np.int16)
    np.testing.assert_array_equal(count_codes(codes, 45), np.bincount(codes, minlength=45))

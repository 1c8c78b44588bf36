"""read_parquet: real Parquet files written by pyarrow, read as read_csv reads the same data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tsrnn
from tsrnn import DataError, read_csv, read_parquet

pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed: pip install 'tsrnn[parquet]'")
pq = pytest.importorskip("pyarrow.parquet")


def frame() -> pd.DataFrame:
    """Two daily series with a gap, a missing value and a covariate."""
    return pd.DataFrame(
        {
            "store": ["A", "A", "A", "B", "B", "B"],
            "ds": pd.to_datetime(
                ["2024-01-01", "2024-01-02", "2024-01-04", "2024-01-01", "2024-01-02", "2024-01-03"]
            ),
            "y": [10.0, 11.5, 12.0, None, 7.0, 8.25],
            "price": [1.0, 1.0, 1.5, 2.0, 2.0, 2.5],
        }
    )


def write(table: pa.Table | pd.DataFrame, path) -> None:
    if isinstance(table, pd.DataFrame):
        table = pa.Table.from_pandas(table, preserve_index=False)
    pq.write_table(table, path)


def same_panels(a: tsrnn.Panel, b: tsrnn.Panel) -> None:
    assert list(a.ids) == list(b.ids)
    assert str(a.freq) == str(b.freq)
    np.testing.assert_array_equal(a.lengths, b.lengths)
    np.testing.assert_array_equal(a.values, b.values)  # NaN where missing, both
    np.testing.assert_array_equal(a.observed, b.observed)
    np.testing.assert_array_equal(a.covariates, b.covariates)
    assert list(a.covariate_names) == list(b.covariate_names)
    np.testing.assert_array_equal(a.times(), b.times())


def test_a_parquet_file_gives_the_panel_and_report_the_same_csv_gives(tmp_path):
    data = frame()
    write(data, tmp_path / "sales.parquet")
    data.to_csv(tmp_path / "sales.csv", index=False)
    panel, report = read_parquet(tmp_path / "sales.parquet")
    csv_panel, csv_report = read_csv(tmp_path / "sales.csv")
    same_panels(panel, csv_panel)
    assert (report.layout, report.id_col, report.time_col, report.target_col) == (
        "long",
        "store",
        "ds",
        "y",
    )
    assert report.past_covariates == ("price",)
    assert report.gaps_inserted == csv_report.gaps_inserted == 1
    assert report.coerced_cells == csv_report.coerced_cells
    assert report.coerced_cells["y"] == 1
    assert report.file_format == "parquet"
    text = report.to_markdown()
    assert "| format | Parquet, snappy-compressed |" in text
    assert "| rows | 6 read |" in text


def test_a_folder_of_parts_and_hive_partitions_read_as_one_file(tmp_path):
    data = frame()
    whole = tmp_path / "whole.parquet"
    write(data, whole)
    parts = tmp_path / "parts"
    parts.mkdir()
    write(data.iloc[:3], parts / "part-0.parquet")
    write(data.iloc[3:], parts / "part-1.parquet")
    same_panels(read_parquet(parts)[0], read_parquet(whole)[0])
    assert read_parquet(parts)[1].parts == 2
    # Spark and Dask write store=A/ folders: the id comes back from the folder names
    hive = tmp_path / "hive"
    pq.write_to_dataset(pa.Table.from_pandas(data, preserve_index=False), hive, ["store"])
    panel, report = read_parquet(hive, id_col="store", target_col="y")
    same_panels(panel, read_parquet(whole)[0])


def test_wide_and_single_series_files(tmp_path):
    wide = pd.DataFrame(
        {
            "ds": pd.date_range("2024-01", periods=4, freq="MS"),
            "a": [1.0, 2, 3, 4],
            "b": [None, 5.0, 6, 7],
        }
    )
    write(wide, tmp_path / "wide.parquet")
    panel, report = read_parquet(tmp_path / "wide.parquet")
    assert report.layout == "wide" and list(panel.ids) == ["a", "b"]
    assert panel.lengths.tolist() == [4, 3]  # b starts at its first value
    write(wide[["ds", "a"]].rename(columns={"a": "y"}), tmp_path / "one.parquet")
    panel, report = read_parquet(tmp_path / "one.parquet")
    assert report.layout == "single" and str(panel.freq) == "MS"


def test_typed_and_text_time_columns(tmp_path):
    base = {"unique_id": ["a"] * 3, "y": [1.0, 2.0, 3.0]}
    # integer steps with a gap
    write(pd.DataFrame({**base, "t": [1, 2, 4]}), tmp_path / "steps.parquet")
    panel, report = read_parquet(tmp_path / "steps.parquet", time_col="t")
    assert panel.freq == 1 and report.gaps_inserted == 1
    # yyyymmdd integers are dates, as in a CSV file
    write(pd.DataFrame({**base, "ds": [20240101, 20240102, 20240103]}), tmp_path / "ymd.parquet")
    assert str(read_parquet(tmp_path / "ymd.parquet")[0].freq) == "D"
    # dates as text
    write(
        pd.DataFrame({**base, "ds": ["2024-01-01", "2024-02-01", "2024-03-01"]}),
        tmp_path / "t.parquet",
    )
    assert str(read_parquet(tmp_path / "t.parquet")[0].freq) == "MS"
    # a time zone: converted to UTC, and the report says so
    zoned = pd.date_range("2024-03-30 22:00", periods=3, freq="h", tz="Europe/Berlin")
    write(pd.DataFrame({**base, "ds": zoned}), tmp_path / "tz.parquet")
    panel, report = read_parquet(tmp_path / "tz.parquet")
    assert panel.times()[0] == pd.Timestamp("2024-03-30 21:00")
    assert "Europe/Berlin" in report.time_note
    # a date column
    dates = pa.array(pd.date_range("2024-01-01", periods=3).date, type=pa.date32())
    table = pa.table({"unique_id": ["a"] * 3, "ds": dates, "y": [1.0, 2.0, 3.0]})
    write(table, tmp_path / "date.parquet")
    assert str(read_parquet(tmp_path / "date.parquet")[0].freq) == "D"


def test_numbers_written_as_text_read_like_csv_cells(tmp_path):
    data = frame().assign(y=["10", "11.5", "NA", "", "7", None])
    write(data, tmp_path / "text.parquet")
    panel, report = read_parquet(tmp_path / "text.parquet")
    assert report.coerced_cells["y"] == 3
    assert panel.values[panel.observed].tolist() == [10.0, 11.5, 7.0]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d.assign(y=["1", "2", "x", "4", "5", "6"]),
            r"row 3, column 'y': 'x' is not a number",
        ),
        (
            lambda d: d.assign(y=["1", "2", "1,234", "4", "5", "6"]),
            r"thousands separator\? write 1234",
        ),
        (
            lambda d: d.assign(y=[True, False, True, False, True, False]),
            r"column 'y': holds true/false",
        ),
        (
            lambda d: d.assign(store=["A", None, "A", "B", "B", "B"]),
            r"row 2: no series id in column 'store'",
        ),
        (
            lambda d: d.assign(y=[1.0, 2.0, np.inf, 4.0, 5.0, 6.0]),
            r"row 3, column 'y': infinite value",
        ),
        (
            lambda d: d.assign(y=[1, 2, 2**60, 4, 5, 6]),
            r"row 3, column 'y': the integer .* beyond 2\*\*53",
        ),
        (
            lambda d: d.assign(
                ds=["2024-01-01", "2024-01-02", "soon", "2024-01-01", "2024-01-02", "2024-01-03"]
            ),
            r"row 3, column 'ds': cannot read 'soon'",
        ),
    ],
)
def test_bad_values_are_refused_naming_the_file_row_and_column(tmp_path, change, expected):
    path = tmp_path / "bad.parquet"
    write(change(frame()), path)
    with pytest.raises(DataError, match=expected) as err:
        read_parquet(path)
    assert str(path) in str(err.value)


def test_a_null_timestamp_and_conflicting_duplicates_name_their_rows(tmp_path):
    table = pa.Table.from_pandas(frame(), preserve_index=False)
    ds = pa.array([None, *frame()["ds"][1:]], type=table.schema.field("ds").type)
    write(table.set_column(1, "ds", ds), tmp_path / "null.parquet")
    with pytest.raises(DataError, match=r"row 1: no timestamp in column 'ds'"):
        read_parquet(tmp_path / "null.parquet")
    twice = frame()
    twice.loc[1, "ds"] = twice.loc[0, "ds"]
    write(twice, tmp_path / "dup.parquet")
    with pytest.raises(DataError, match=r"rows 1 and 2"):
        read_parquet(tmp_path / "dup.parquet")


def test_missing_columns_corrupt_files_and_empty_folders_are_refused(tmp_path):
    write(frame(), tmp_path / "sales.parquet")
    with pytest.raises(DataError, match=r"no column 'qty' \(target_col=\); the columns are"):
        read_parquet(tmp_path / "sales.parquet", target_col="qty")
    cut = tmp_path / "cut.parquet"
    cut.write_bytes((tmp_path / "sales.parquet").read_bytes()[:200])
    with pytest.raises(DataError, match=r"cut.parquet: not a readable Parquet file"):
        read_parquet(cut)
    csv = tmp_path / "really.parquet"
    csv.write_text("ds,y\n2024-01-01,1\n")
    with pytest.raises(DataError, match=r"not a readable Parquet file"):
        read_parquet(csv)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"holds no .parquet files"):
        read_parquet(tmp_path / "empty")
    with pytest.raises(DataError, match=r"no such file or folder"):
        read_parquet(tmp_path / "nowhere.parquet")
    write(frame().iloc[:0], tmp_path / "norows.parquet")
    with pytest.raises(DataError, match=r"but no rows"):
        read_parquet(tmp_path / "norows.parquet")


def test_dictionary_ids_stay_codes_and_keep_their_text(tmp_path):
    data = frame().assign(
        store=lambda d: d["store"].map({"A": "007", "B": "010"}).astype("category")
    )
    write(data, tmp_path / "cat.parquet")
    panel, _ = read_parquet(tmp_path / "cat.parquet")
    assert list(panel.ids) == ["007", "010"]  # text ids are never read as numbers


def test_row_groups_are_read_one_at_a_time_and_rows_counted_across_them(tmp_path):
    """A file of many row groups (each with its own id and time dictionaries, as writers
    store them) reads as the CSV of the same rows; errors count rows across the groups."""
    rng = np.random.default_rng(3)
    n, length = 40, 30
    data = pd.DataFrame(
        {
            "store": np.repeat([f"s{i:02d}" for i in rng.permutation(n)], length),
            "ds": np.tile(pd.date_range("2024-01-01", periods=length, freq="h"), n),
            "y": rng.normal(100, 10, n * length).round(3),
        }
    )
    data.loc[rng.choice(len(data), 20, replace=False), "y"] = np.nan
    table = pa.Table.from_pandas(data, preserve_index=False)
    table = table.set_column(0, "store", table.column("store").dictionary_encode())
    pq.write_table(table, tmp_path / "groups.parquet", row_group_size=97)
    assert pq.ParquetFile(tmp_path / "groups.parquet").metadata.num_row_groups == 13
    data.to_csv(tmp_path / "groups.csv", index=False)
    panel, _ = read_parquet(tmp_path / "groups.parquet")
    same_panels(panel, read_csv(tmp_path / "groups.csv")[0])
    ids = pa.array([*data["store"][:1000], None, *data["store"][1001:]])
    pq.write_table(table.set_column(0, "store", ids), tmp_path / "null.parquet", row_group_size=97)
    with pytest.raises(DataError, match=r"row 1001: no series id in column 'store'"):
        read_parquet(tmp_path / "null.parquet")


@pytest.mark.parametrize("group", [30, 97], ids=["a-series-a-group", "groups-across-series"])
def test_a_complete_sorted_file_is_the_panel_as_read(tmp_path, monkeypatch, group):
    """Complete series in id order (a large export's usual shape) skip the regularizer; the
    panel equals the CSV's and the regularizer's, whether each row group's dictionary holds
    new ids only or repeats the last group's."""
    from tsrnn.data import io

    rng = np.random.default_rng(4)
    n, length = 40, 30
    data = pd.DataFrame(
        {
            "store": np.repeat([f"s{i:02d}" for i in range(n)], length),
            "ds": np.tile(pd.date_range("2024-01-01", periods=length, freq="h"), n),
            "y": rng.normal(100, 10, n * length).round(3),
        }
    )
    data.loc[rng.choice(len(data), 20, replace=False), "y"] = np.nan
    table = pa.Table.from_pandas(data, preserve_index=False)
    table = table.set_column(0, "store", table.column("store").dictionary_encode())
    pq.write_table(table, tmp_path / "sorted.parquet", row_group_size=group)
    data.to_csv(tmp_path / "sorted.csv", index=False)
    taken = []
    complete = io.build_sorted
    monkeypatch.setattr(
        io, "build_sorted", lambda *a, **k: taken.append(complete(*a, **k)) or taken[-1]
    )
    panel, report = read_parquet(tmp_path / "sorted.parquet")
    assert taken[-1] is not None
    same_panels(panel, read_csv(tmp_path / "sorted.csv")[0])
    monkeypatch.setattr(io, "build_sorted", lambda *a, **k: None)
    slow, slow_report = read_parquet(tmp_path / "sorted.parquet")
    same_panels(panel, slow)
    assert report.to_dict() == slow_report.to_dict()


# ---------------------------------------------------------------------- the CLI
def air_parquet(tmp_path):
    data = pd.read_csv(tsrnn.datasets.path("air_passengers"))
    path = tmp_path / "air.parquet"
    write(data, path)
    return data, path


def test_the_cli_backtests_a_parquet_file_as_it_does_the_csv(tmp_path):
    from tsrnn_cli.app import app
    from typer.testing import CliRunner

    data, path = air_parquet(tmp_path)
    data.to_csv(tmp_path / "air.csv", index=False)
    args = ["--models", "snaive,naive2", "--horizon", "12", "--windows", "2", "--quiet"]
    runner = CliRunner()
    for name in ("air.parquet", "air.csv"):
        out = tmp_path / f"report-{name}"
        result = runner.invoke(
            app, ["backtest", str(tmp_path / name), *args, "--report-dir", str(out)]
        )
        assert result.exit_code == 0, result.output
    metrics = [
        pd.read_csv(tmp_path / f"report-{n}" / "metrics.csv") for n in ("air.parquet", "air.csv")
    ]
    pd.testing.assert_frame_equal(metrics[0], metrics[1])
    manifest = (tmp_path / "report-air.parquet" / "manifest.json").read_text()
    assert "air.parquet" in manifest


def test_the_cli_fits_a_folder_of_parts_and_refuses_bad_parquet_in_one_line(tmp_path):
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    exe = shutil.which("tsrnn", path=str(Path(sys.executable).parent))
    data, _ = air_parquet(tmp_path)
    parts = tmp_path / "parts"
    parts.mkdir()
    write(data.iloc[:72], parts / "part-0.parquet")
    write(data.iloc[72:], parts / "part-1.parquet")
    done = subprocess.run(
        [exe, "info", str(parts), "--report", str(tmp_path / "info.md")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "| format | Parquet, snappy-compressed, 2 files |" in (tmp_path / "info.md").read_text()
    bad = tmp_path / "bad.parquet"
    write(data.assign(y=data["y"].astype(str).where(data.index != 5, "many")), bad)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really")
    for path, message in (
        (bad, "row 6, column 'y': 'many' is not a number"),
        (broken, "not a readable Parquet file"),
    ):
        for extra in ([], ["--verbose"]):
            done = subprocess.run(
                [exe, *extra, "fit", str(path), "--out", str(tmp_path / "m.pt")],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 2, done.stderr
            assert message in done.stderr
            if not extra:
                assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "m.pt").exists()


def test_the_cli_reads_parquet_by_its_content_whatever_the_name(tmp_path):
    from tsrnn_cli.app import app
    from typer.testing import CliRunner

    data, path = air_parquet(tmp_path)
    named_csv = tmp_path / "air.csv"
    named_csv.write_bytes(path.read_bytes())
    result = CliRunner().invoke(app, ["info", str(named_csv), "--json"])
    assert result.exit_code == 0, result.output
    assert '"file_format": "parquet"' in result.stdout and '"rows": 144' in result.stdout

"""How a file is told apart (tsrnn.data.layout), seen through read_csv: dates read one way for
all rows or refused with the line and the fix, never silently misread."""

import bz2
import gzip
import lzma
import zipfile

import pandas as pd
import pytest

import tsrnn
from tsrnn import DataError


def write(tmp_path, text: str, name: str = "data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def monthly_day_first(tmp_path):
    # The first of each month, written dd/mm/yyyy: month-first it is 12 days of January.
    rows = "".join(f"01/{m:02d}/2024,{m}\n" for m in range(1, 13))
    return write(tmp_path, "ds,y\n" + rows)


def test_both_readings_of_slash_dates_fitting_is_refused_until_dayfirst_says(tmp_path):
    path = monthly_day_first(tmp_path)
    with pytest.raises(DataError) as err:
        tsrnn.read_csv(path)
    text = str(err.value)
    assert "line 3, column 'ds'" in text and "'01/02/2024'" in text
    assert "02 January 2024 month-first" in text and "01 February 2024 day-first" in text
    assert "--dayfirst" in text and "dayfirst=True" in text
    panel, report = tsrnn.read_csv(path, dayfirst=True)
    assert panel.freq == "MS" and str(panel.starts[0].date()) == "2024-01-01"
    assert panel.lengths.tolist() == [12]
    panel, _ = tsrnn.read_csv(path, dayfirst=False)
    assert panel.freq == "D"  # the user said so: 1 to 12 January


def test_day_first_is_detected_when_it_is_the_only_reading_that_fits(tmp_path):
    # 01/02 ... 12/02: month-first these are the 2nd of twelve months, which no grid holds.
    path = write(tmp_path, "ds,y\n" + "".join(f"{d:02d}/02/2024,{d}\n" for d in range(1, 13)))
    panel, report = tsrnn.read_csv(path)
    assert panel.freq == "D" and str(panel.starts[0].date()) == "2024-02-01"
    assert report.time_note.startswith("read day-first ('01/02/2024' is 01 February 2024)")
    assert "| time column | read day-first" in report.to_markdown()
    # Days past 12 leave only the day-first reading valid.
    path = write(tmp_path, "ds,y\n13/01/2024,1\n14/01/2024,2\n15/01/2024,3\n", "b.csv")
    panel, report = tsrnn.read_csv(path)
    assert str(panel.starts[0].date()) == "2024-01-13" and "day-first" in report.time_note


def test_month_first_dates_read_as_before_without_a_note(tmp_path):
    path = write(tmp_path, "ds,y\n01/30/2024,1\n01/31/2024,2\n02/01/2024,3\n")
    panel, report = tsrnn.read_csv(path)
    assert str(panel.starts[0].date()) == "2024-01-30" and report.time_note == ""


def test_daily_data_across_a_summer_time_change_keeps_its_local_dates(tmp_path):
    days = pd.date_range("2024-03-25", periods=14, freq="D")
    rows = [
        f"{d:%Y-%m-%d}T00:00:00{'+01:00' if d < pd.Timestamp('2024-03-31') else '+02:00'},{i}"
        for i, d in enumerate(days)
    ]
    path = write(tmp_path, "ds,y\n" + "\n".join(rows) + "\n")
    for freq in (None, "D"):
        panel, report = tsrnn.read_csv(path, freq=freq)
        assert panel.freq == "D" and panel.lengths.tolist() == [14]
        assert report.gaps_inserted == 0 and str(panel.starts[0]) == "2024-03-25 00:00:00"
        assert "UTC offsets differ (+01:00, +02:00)" in report.time_note
        assert "local date" in report.time_note


def test_hourly_data_across_a_summer_time_change_is_put_in_utc(tmp_path):
    stamps = pd.date_range("2024-03-31 00:00", periods=6, freq="h", tz="Europe/Paris")
    rows = [f"{t.isoformat()},{i}" for i, t in enumerate(stamps)]
    path = write(tmp_path, "ds,y\n" + "\n".join(rows) + "\n")
    panel, report = tsrnn.read_csv(path)
    assert panel.freq == "h" and panel.lengths.tolist() == [6] and report.gaps_inserted == 0
    assert "converted to UTC" in report.time_note


def test_naive_and_offset_timestamps_in_one_column_are_refused_by_line(tmp_path):
    path = write(
        tmp_path, "ds,y\n2024-01-01 00:00,1\n2024-01-01 01:00+01:00,2\n2024-01-01 02:00,3\n"
    )
    with pytest.raises(DataError) as caught:
        tsrnn.read_csv(path)
    assert str(caught.value) == (
        f"{path}, line 3, column 'ds': the column mixes time zones: '2024-01-01 01:00+01:00' has "
        "a UTC offset but '2024-01-01 00:00' (line 2) has none, and the two cannot be ordered "
        "on one clock; write every timestamp with its offset, or none with one"
    )


def test_a_date_past_2262_names_the_line_and_the_range(tmp_path):
    path = write(tmp_path, "ds,y\n2024-01-01,1\n2024-01-02,2\n2300-01-03,3\n")
    with pytest.raises(DataError) as err:
        tsrnn.read_csv(path)
    assert "data.csv, line 4, column 'ds': '2300-01-03' is outside" in str(err.value)
    assert "2262-04-11" in str(err.value)


@pytest.mark.parametrize(
    ("compress", "name"),
    [(gzip.compress, "gzip"), (bz2.compress, "bz2"), (lzma.compress, "xz")],
)
def test_compressed_bytes_are_read_by_content_whatever_the_name(tmp_path, compress, name):
    path = tmp_path / "sales.csv"  # compressed, under a plain CSV name
    path.write_bytes(compress(b"ds,y\n2024-01-01,1\n2024-01-02,2\n"))
    panel, report = tsrnn.read_csv(path)
    assert panel.values.tolist() == [1.0, 2.0]
    assert report.compression == name and f"utf-8, {name}-compressed" in report.to_markdown()
    plain = write(tmp_path, "ds,y\n2024-01-01,1\n2024-01-02,2\n", name="plain.csv.gz")  # text
    assert tsrnn.read_csv(plain)[1].compression is None


def test_a_zip_of_one_csv_is_read_and_a_workbook_is_refused(tmp_path):
    archive = tmp_path / "export.csv"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("sales.csv", "ds,y\n2024-01-01,1\n2024-01-02,2\n")
    assert tsrnn.read_csv(archive)[0].values.tolist() == [1.0, 2.0]
    workbook = tmp_path / "book.csv"
    with zipfile.ZipFile(workbook, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(DataError, match="book.csv: the file is an Excel workbook.*export the"):
        tsrnn.read_csv(workbook)
    several = tmp_path / "two.zip"
    with zipfile.ZipFile(several, "w") as z:
        z.writestr("a.csv", "ds,y\n")
        z.writestr("b.csv", "ds,y\n")
    with pytest.raises(
        DataError, match=r"two.zip: the file is a zip archive of 2 file\(s\) \(a.csv"
    ):
        tsrnn.read_csv(several)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_text_is_read_with_or_without_its_byte_order_mark(tmp_path, encoding):
    # Excel's "Unicode text" export writes UTF-16 with a byte-order mark.
    path = tmp_path / "export.csv"
    path.write_bytes(
        "station,ds,y\nM\xfcnchen,2024-01-01,1\nM\xfcnchen,2024-01-02,2\n".encode(encoding)
    )
    panel, report = tsrnn.read_csv(path)
    assert list(panel.ids) == ["M\xfcnchen"] and panel.values.tolist() == [1.0, 2.0]
    assert report.encoding == encoding and encoding in report.to_markdown()


def test_a_repeated_column_name_is_refused(tmp_path):
    path = write(tmp_path, "ds,y,y\n2024-01-01,1,2\n2024-01-02,2,3\n")
    with pytest.raises(
        DataError, match=r"line 1: column name 'y' appears twice \(columns 2 and 3\)"
    ):
        tsrnn.read_csv(path)


def test_excels_sep_line_names_the_delimiter_and_lines_keep_their_numbers(tmp_path):
    path = write(tmp_path, "sep=;\nds;y\n2024-01-01;1,5\n2024-01-02;2,5\n2024-01-03;3,5\n")
    panel, report = tsrnn.read_csv(path)
    assert panel.values.tolist() == [1.5, 2.5, 3.5] and report.delimiter == ";"
    broken = write(tmp_path, "sep=;\nds;y\n2024-01-01;1,5\n2024-01-02;x\n", name="b.csv")
    with pytest.raises(DataError, match=r"b.csv, line 4, column 'y': 'x' is not a number"):
        tsrnn.read_csv(broken)


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b'[{"ds": "2024-01-01", "y": 1}, {"ds": "2024-01-02", "y": 2}]', "JSON"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(40), "an Excel 97-2003 workbook"),
    ],
)
def test_other_file_formats_are_named_with_a_way_to_convert_them(tmp_path, content, what):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=f"data.csv: the file is {what}.*not CSV text.*to_csv"):
        tsrnn.read_csv(path)


def test_a_parquet_file_is_named_and_sent_to_read_parquet(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"PAR1\x15\x04\x15\x10\x15\x14L\x15\x02\x15\x00")
    with pytest.raises(
        DataError, match=r"data.csv: the file is a Parquet file.*tsrnn.read_parquet"
    ):
        tsrnn.read_csv(path)


def test_a_title_above_the_header_and_a_header_short_of_the_rows_are_named(tmp_path):
    title = write(tmp_path, "Sales report 2024\nds,y\n2024-01-01,1\n2024-01-02,2\n2024-01-03,3\n")
    with pytest.raises(DataError, match=r"line 1: 'Sales report 2024' is one field.*a title"):
        tsrnn.read_csv(title)
    # Every row one field longer than the header: pandas would read the first as the index
    # and every column shifted by one.
    short = write(tmp_path, "ds,y\n2024-01-01,1,9\n2024-01-02,2,9\n2024-01-03,3,9\n", name="s.csv")
    with pytest.raises(DataError, match=r"line 1: the header names 2 columns but the lines below"):
        tsrnn.read_csv(short)


def test_trailing_delimiters_make_unnamed_empty_columns_that_are_ignored_and_reported(tmp_path):
    path = write(tmp_path, "ds,y,,\n2024-01-01,1,,\n2024-01-02,2,,\n2024-01-03,3,,\n")
    panel, report = tsrnn.read_csv(path)
    assert panel.values.tolist() == [1.0, 2.0, 3.0] and panel.covariate_names == ()
    assert report.ignored_columns == {
        "Unnamed: 2": "no name, no values",
        "Unnamed: 3": "no name, no values",
    }


@pytest.mark.parametrize(
    ("cell", "hint"),
    [
        ('"1,234"', "'1,234' is not a number (a thousands separator? write 1234)"),
        ("12%", "'12%' is not a number (a percentage? write 12 or 0.12, without %)"),
        ("$5.50", "'$5.50' is not a number (a currency sign? write 5.50 alone)"),
    ],
)
def test_a_number_in_a_display_format_says_what_to_write(tmp_path, cell, hint):
    path = write(tmp_path, f"ds,y\n2024-01-01,1\n2024-01-02,{cell}\n2024-01-03,3\n")
    with pytest.raises(DataError, match=r"line 3, column 'y': ") as caught:
        tsrnn.read_csv(path)
    assert hint in str(caught.value)


def test_a_time_zone_name_says_to_write_an_offset(tmp_path):
    path = write(tmp_path, "ds,y\n2024-01-01 00:00 CET,1\n2024-01-01 01:00 CET,2\n")
    with pytest.raises(DataError, match="the time-zone name CET is not read: write a UTC offset"):
        tsrnn.read_csv(path)

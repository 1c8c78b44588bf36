import numpy as np
import pandas as pd
import pytest

from tsrnn.data.frequency import infer_freq, is_tick, season_length


@pytest.mark.parametrize(
    ("freq", "expected"),
    [
        ("h", "h"),
        ("30min", "30min"),
        ("D", "D"),
        ("W-SUN", "W-SUN"),
        ("W-WED", "W-WED"),
        ("MS", "MS"),
        ("ME", "ME"),
        ("QS-JAN", "QS-JAN"),
        ("QE-DEC", "QE-DEC"),
        ("YS-JAN", "YS-JAN"),
        ("YE-DEC", "YE-DEC"),
    ],
)
def test_infer_freq_survives_gaps(freq, expected):
    stamps = pd.date_range("2021-01-01", periods=40, freq=freq)
    gappy = stamps.delete([3, 4, 5, 17, 30])
    assert infer_freq(gappy) == expected


def test_business_days_are_recognised():
    stamps = pd.bdate_range("2024-01-01", periods=30)
    assert infer_freq(stamps) == "B"


def test_off_grid_timestamp_fits_no_frequency():
    stamps = pd.DatetimeIndex(
        [
            "2024-01-01 00:00",
            "2024-01-01 01:00",
            "2024-01-01 02:00",
            "2024-01-01 02:30",
            "2024-01-01 04:00",
        ]
    )
    assert infer_freq(stamps) is None


def test_integer_time_step_and_too_short():
    assert infer_freq(np.array([10, 12, 18, 20])) == 2
    assert infer_freq(np.array([10, 13, 15])) is None
    assert infer_freq(pd.DatetimeIndex(["2024-01-01"])) is None


@pytest.mark.parametrize(
    ("freq", "season"),
    [
        ("h", 24),
        ("2h", 12),
        ("15min", 96),
        ("D", 7),
        ("B", 5),
        ("W-SUN", 52),
        ("MS", 12),
        ("QS-JAN", 4),
        ("YE-DEC", 1),
        (1, 1),
        (None, 1),
    ],
)
def test_season_length_from_frequency(freq, season):
    assert season_length(freq) == season


def test_tick_frequencies():
    assert is_tick("h") and is_tick("15min") and is_tick("D") and is_tick(3)
    assert not is_tick("MS") and not is_tick("W-SUN") and not is_tick("B")

"""Fixtures shared by the test modules: the bundled real data sets."""

import pandas as pd
import pytest

from tsrnn import datasets


@pytest.fixture(scope="session")
def air():
    """The air passengers series: one monthly series, 144 points."""
    return datasets.load("air_passengers")


@pytest.fixture(scope="session")
def beijing():
    """The last 120 days of the bundled Beijing PM2.5 data: 12 stations, hourly, with gaps,
    and their weather covariates."""
    data = datasets.load("beijing_pm25")
    return data[data.ds > data.ds.max() - pd.Timedelta(days=120)].reset_index(drop=True)

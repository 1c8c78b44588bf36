import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from panels import make_panel
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from tsrnn import DataError, Panel
from tsrnn.data.scale import METHODS, Scaler

nan = np.nan


def random_panel(seed, n_series=5):
    rng = np.random.default_rng(seed)
    series = []
    for i in range(n_series):
        y = rng.normal(10 * i, 1 + i, rng.integers(4, 50))
        y[rng.random(len(y)) < 0.3] = nan
        y[0] = 10 * i
        series.append(y)
    return make_panel(series)


def numpy_stats(y, method):
    """What each method means, written the slow, obvious way with numpy's NaN functions."""
    if method == "standard":
        return np.nanmean(y), np.nanstd(y)
    if method == "minmax":
        return np.nanmin(y), np.nanmax(y) - np.nanmin(y)
    if method == "robust":
        q25, q50, q75 = np.nanquantile(y, [0.25, 0.5, 0.75])
        return q50, q75 - q25
    if method == "meanabs":
        return 0.0, np.nanmean(np.abs(y))
    return 0.0, 1.0


@pytest.mark.parametrize("method", METHODS)
def test_statistics_use_observed_values_only(method):
    panel = random_panel(0)
    scaler = Scaler(method).fit(panel)
    for i in range(panel.n_series):
        y = panel.series_values(i).astype(np.float64)
        assert (scaler.loc_[i], scaler.scale_[i]) == pytest.approx(numpy_stats(y, method))


def test_imputed_values_do_not_enter_the_statistics():
    panel = make_panel([[1, nan, 3]])
    imputed = panel.replace(values=np.array([1.0, 1000.0, 3.0]))  # still unobserved
    assert Scaler().fit(imputed).loc_.tolist() == [2.0]


@st.composite
def panels(draw):
    n_series = draw(st.integers(1, 4))
    series = []
    for _ in range(n_series):
        length = draw(st.integers(1, 20))
        values = st.floats(-1e6, 1e6, width=32, allow_subnormal=False)
        y = np.array(draw(st.lists(values, min_size=length, max_size=length)))
        seen = draw(st.lists(st.booleans(), min_size=length, max_size=length))
        seen[draw(st.integers(0, length - 1))] = True
        series.append(np.where(seen, y, nan))
    return make_panel(series)


def assert_close_to_float64(back, original, loc):
    """Equal up to a few float64 roundings of the numbers involved."""
    tol = 4 * np.finfo(np.float64).eps * (np.abs(original) + np.abs(loc)) + 1e-300
    assert np.array_equal(np.isnan(back), np.isnan(original))
    seen = ~np.isnan(original)
    assert np.all(np.abs(back[seen] - original[seen]) <= tol[seen])


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=40, deadline=None)
@given(panel=panels())
def test_inverse_transform_is_exact(method, panel):
    scaler = Scaler(method).fit(panel)
    scaled = scaler.transform(panel)
    assert np.all(np.isfinite(scaled.values[panel.observed]))
    assert np.all(np.isfinite(scaler.scale_)) and np.all(scaler.scale_ > 0)
    back = scaler.inverse_transform(scaled).values
    assert_close_to_float64(back, panel.values, np.repeat(scaler.loc_, panel.lengths))
    np.testing.assert_array_equal(scaled.observed, panel.observed)


@pytest.mark.parametrize("method", METHODS)
def test_inverse_transform_array_undoes_transform_for_forecast_shapes(method):
    rng = np.random.default_rng(3)
    original = (rng.normal(100, 20, (4, 6)) * np.array([[1], [10], [0.1], [3]])).astype(np.float32)
    panel = make_panel(original)
    scaler = Scaler(method).fit(panel)
    scaled = scaler.transform(panel).values.reshape(4, 6)
    order = np.array([2, 0, 3, 1])  # forecasts come in any order, named by position
    back = scaler.inverse_transform_array(scaled[order], series=order)  # (n, H)
    assert back.shape == (4, 6) and back.dtype == np.float64
    np.testing.assert_allclose(back, original[order], rtol=1e-12)
    quantiles = np.repeat(scaled[order][:, :, None], 3, axis=2)  # (n, H, Q)
    back_q = scaler.inverse_transform_array(quantiles, series=order)
    np.testing.assert_allclose(
        back_q, np.repeat(original[order][:, :, None], 3, axis=2), rtol=1e-12
    )


@pytest.mark.parametrize("method", ["standard", "minmax", "robust"])
def test_float32_forecasts_of_a_large_series_come_back_with_their_digits(method):
    """A network computes in float32: the scale's location is added in float64 afterwards,
    so a series around 1e8 is de-scaled to within its float32 error in scaled units, not
    rounded to float32's steps of 8 at that level."""
    original = 100000000.9 + np.arange(30.0)
    panel = Panel.from_arrays([original])
    scaler = Scaler(method).fit(panel)
    network = scaler.transform(panel).values.astype(np.float32)
    back = scaler.inverse_transform_array(network[None, :], series=[0])[0]
    assert back.dtype == np.float64
    np.testing.assert_allclose(back, original, rtol=0, atol=1e-4)


@pytest.mark.parametrize("method", METHODS)
def test_fit_on_the_training_span_ignores_what_comes_after(method):
    panel = random_panel(4)
    future = panel.values.copy()
    cut = panel.offsets[1:] - 3  # last 3 points of every series
    after = np.zeros(len(future), dtype=bool)
    for end, start in zip(panel.offsets[1:], cut, strict=True):
        after[start:end] = True
    future[after] = 1e6
    changed = panel.replace(values=future, observed=panel.observed | after)

    a = Scaler(method).fit(panel.drop_last(3))
    b = Scaler(method).fit(changed.drop_last(3))
    c = Scaler(method).fit(changed, end=changed.lengths - 3)
    for other in (b, c):
        np.testing.assert_array_equal(a.loc_, other.loc_)
        np.testing.assert_array_equal(a.scale_, other.scale_)


@pytest.mark.parametrize("method", METHODS)
def test_constant_and_nearly_empty_series_give_finite_output(method):
    series = [[5, 5, 5], [0, 0], [nan, 3, nan], [-2, nan, -2], [0]]
    panel = make_panel(series)
    scaler = Scaler(method).fit(panel)
    assert np.all(np.isfinite(scaler.scale_)) and np.all(scaler.scale_ > 0)
    scaled = scaler.transform(panel)
    assert np.all(np.isfinite(scaled.values[panel.observed]))
    back = scaler.inverse_transform(scaled).values
    np.testing.assert_array_equal(back[panel.observed], panel.values[panel.observed])


def test_degenerate_scale_falls_back_to_the_level_then_to_one():
    scaler = Scaler("standard").fit(make_panel([[5, 5, 5], [0, 0], [nan, -3]]))
    assert scaler.loc_.tolist() == [5, 0, -3]
    assert scaler.scale_.tolist() == [5, 1, 3]


def test_transform_finds_series_by_id():
    panel = random_panel(5)
    scaler = Scaler().fit(panel)
    subset = [3, 1]
    np.testing.assert_array_equal(
        scaler.transform(panel.select(subset)).values,
        scaler.transform(panel).select(subset).values,
    )
    with pytest.raises(DataError, match="s9"):
        scaler.transform(make_panel([[1.0]] * 10))


def test_fit_span_without_observations_is_a_data_error():
    with pytest.raises(DataError, match="s1"):
        Scaler().fit(make_panel([[1, 2], [nan, 4]]), end=1)


def test_parameters_are_checked_in_fit_and_clone_keeps_them():
    scaler = Scaler("zscore")
    assert clone(scaler).get_params() == {"method": "zscore"}
    with pytest.raises(ValueError, match="method"):
        scaler.fit(make_panel([[1, 2]]))
    with pytest.raises(NotFittedError):
        Scaler().transform(make_panel([[1, 2]]))

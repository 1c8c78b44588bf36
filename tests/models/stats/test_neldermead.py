"""Tests for tsrnn.models.stats.neldermead: Nash's Nelder-Mead variant, as R's optim documents it."""

from __future__ import annotations

import numpy as np
import pytest

from tsrnn.models.stats.neldermead import NelderMeadResult, nelder_mead


def rosenbrock(x: np.ndarray) -> float:
    # Written as R's example(optim) writes it (squares as products), so rounding matches.
    x1, x2 = x
    return 100 * (x2 - x1 * x1) * (x2 - x1 * x1) + (1 - x1) * (1 - x1)


class Recorder:
    """Objective wrapper that keeps every point it was asked about."""

    def __init__(self, fn):
        self.fn = fn
        self.points: list[np.ndarray] = []

    def __call__(self, x: np.ndarray) -> float:
        self.points.append(np.array(x))
        return self.fn(x)


def test_rosenbrock_reproduces_r_example_optim():
    # R's example(optim): optim(c(-1.2, 1), fr) gives par 1.000260 1.000506,
    # value 8.825241e-08 and counts 195 function evaluations.
    calls = Recorder(rosenbrock)
    res = nelder_mead(calls, np.array([-1.2, 1.0]))
    assert isinstance(res, NelderMeadResult)
    np.testing.assert_allclose(res.x, [1.000260, 1.000506], rtol=0, atol=1e-6)
    assert res.fun == pytest.approx(8.825241e-08, rel=0, abs=1e-12)
    assert res.n_evals == 195
    assert len(calls.points) == 195
    assert res.converged
    assert res.fun == rosenbrock(res.x)


def test_start_simplex_steps_a_tenth_of_the_largest_coordinate():
    calls = Recorder(rosenbrock)
    nelder_mead(calls, np.array([-1.2, 1.0]), maxit=3)
    np.testing.assert_array_equal(calls.points[0], [-1.2, 1.0])
    np.testing.assert_allclose(calls.points[1], [-1.2 + 0.12, 1.0])
    np.testing.assert_allclose(calls.points[2], [-1.2, 1.0 + 0.12])


def test_start_simplex_at_zero_steps_by_a_tenth():
    calls = Recorder(lambda x: float(np.sum((x - 1.0) ** 2)))
    nelder_mead(calls, np.zeros(3), maxit=4)
    np.testing.assert_array_equal(np.array(calls.points[1:]), 0.1 * np.eye(3))


def test_convex_quadratic_in_three_dimensions_reaches_its_minimum():
    a = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
    centre = np.array([1.5, -2.0, 0.5])

    def quadratic(x: np.ndarray) -> float:
        d = x - centre
        return float(d @ a @ d) + 3.0

    res = nelder_mead(quadratic, np.array([0.0, 0.0, 0.0]), reltol=1e-14, maxit=5000)
    assert res.converged
    np.testing.assert_allclose(res.x, centre, atol=1e-5)
    assert res.fun == pytest.approx(3.0, abs=1e-9)
    assert res.n_evals <= 5000


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_avoided(bad):
    # Undefined left of x0 = 0.5; the minimum (1, 2) lies inside, and from (3, 0.5) some trial
    # points land in the undefined half (checked below).
    def walled(x: np.ndarray) -> float:
        if x[0] < 0.5:
            return bad
        return (x[0] - 1.0) ** 2 + (x[1] - 2.0) ** 2

    calls = Recorder(walled)
    res = nelder_mead(calls, np.array([3.0, 0.5]), reltol=1e-12)
    assert res.converged
    assert np.isfinite(res.fun)
    assert res.x[0] >= 0.5
    np.testing.assert_allclose(res.x, [1.0, 2.0], atol=1e-4)
    # The search did try the undefined half, and moved away from it.
    assert any(p[0] < 0.5 for p in calls.points)


def test_search_stays_at_the_start_when_every_other_point_is_undefined():
    x0 = np.array([2.0, -1.0])

    def island(x: np.ndarray) -> float:
        return 7.0 if np.array_equal(x, x0) else np.nan

    res = nelder_mead(island, x0, maxit=60)
    np.testing.assert_array_equal(res.x, x0)
    assert res.fun == 7.0


@pytest.mark.parametrize("maxit", [1, 2, 3, 10, 50, 194])
def test_maxit_caps_every_evaluation(maxit):
    calls = Recorder(rosenbrock)
    res = nelder_mead(calls, np.array([-1.2, 1.0]), maxit=maxit)
    assert res.n_evals == len(calls.points) == maxit
    assert not res.converged
    # What comes back is the best point it evaluated.
    values = [rosenbrock(p) for p in calls.points]
    assert res.fun == min(values)
    np.testing.assert_array_equal(res.x, calls.points[int(np.argmin(values))])


def test_enough_evaluations_change_nothing():
    # A budget above what the search needs leaves the path as it was.
    res = nelder_mead(rosenbrock, np.array([-1.2, 1.0]), maxit=195)
    assert res.converged
    assert res.n_evals == 195


def test_abstol_stops_once_the_value_is_low_enough():
    res = nelder_mead(rosenbrock, np.array([-1.2, 1.0]), abstol=1e-3)
    assert res.converged
    assert res.fun <= 1e-3
    assert res.n_evals < 195


def test_flat_function_converges_on_the_start_simplex():
    res = nelder_mead(lambda x: 5.0, np.array([1.0, 2.0, 3.0]))
    assert res.converged
    assert res.n_evals == 4
    np.testing.assert_array_equal(res.x, [1.0, 2.0, 3.0])


def test_runs_are_identical():
    first = nelder_mead(rosenbrock, np.array([-1.2, 1.0]))
    second = nelder_mead(rosenbrock, np.array([-1.2, 1.0]))
    np.testing.assert_array_equal(first.x, second.x)
    assert first.fun == second.fun
    assert first.n_evals == second.n_evals


def test_objective_changing_its_argument_does_no_harm():
    def vandal(x: np.ndarray) -> float:
        value = rosenbrock(x)
        x[:] = 1e6
        return value

    x0 = np.array([-1.2, 1.0])
    res = nelder_mead(vandal, x0)
    np.testing.assert_array_equal(x0, [-1.2, 1.0])
    assert res.n_evals == 195
    np.testing.assert_allclose(res.x, [1.000260, 1.000506], rtol=0, atol=1e-6)


def test_result_is_frozen():
    res = nelder_mead(rosenbrock, np.array([-1.2, 1.0]), maxit=5)
    with pytest.raises(AttributeError):
        res.fun = 0.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("x0", "kwargs"),
    [
        (np.array([]), {}),
        (np.ones((2, 2)), {}),
        (np.array([np.nan, 1.0]), {}),
        (np.array([1.0, 1.0]), {"maxit": 0}),
        (np.array([1.0, 1.0]), {"reltol": -1.0}),
        (np.array([1.0, 1.0]), {"beta": 1.0}),
        (np.array([1.0, 1.0]), {"gamma": 1.0}),
        (np.array([1.0, 1.0]), {"alpha": 0.0}),
    ],
)
def test_bad_arguments_are_refused(x0, kwargs):
    with pytest.raises(ValueError):
        nelder_mead(rosenbrock, x0, **kwargs)


def test_start_must_have_a_finite_value():
    with pytest.raises(ValueError, match="not finite"):
        nelder_mead(lambda x: np.inf, np.array([1.0, 1.0]))

"""Nelder-Mead simplex minimisation in the variant of Nash's Algorithm 19.

The method is that of Nelder & Mead (Computer Journal 7(4), 1965) as J. C. Nash arranges it in
*Compact Numerical Methods for Computers* (2nd ed., 1990), Algorithm 19, which is also what R's
``optim(method = "Nelder-Mead")`` documents: reflection ``alpha = 1``, contraction
``beta = 0.5``, expansion ``gamma = 2``, a start simplex stepped along the axes by a tenth of the
largest start coordinate, and a convergence test on the spread of function values scaled by the
value at the start. It is written here from those published descriptions so that the statistical
forecasters can fit their parameters the way R's reference implementations do.

Nash's arrangement differs from the textbook one in three places that change the path the
simplex takes, and so the number of evaluations it needs:

- a reflected point that is not better than the lowest vertex is always followed by a
  contraction (there is no "accept the reflection if it beats the second-highest" case); the
  reflected point first replaces the highest vertex if it improves on it, and the contraction
  runs from whichever of the two is kept;
- the whole simplex shrinks toward the lowest vertex only when both the reflection failed to
  improve on the highest vertex and the contraction failed to improve on the kept one;
- the lowest vertex keeps its index across iterations unless another vertex is strictly lower,
  which settles ties the same way every time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# Stand-in for a value the objective could not produce (NaN or infinite): large enough that the
# simplex moves away from it, finite so that the arithmetic on values stays well defined.
_BIG = 1.0e35

# sqrt(machine epsilon), R's default ``reltol``.
_SQRT_EPS = 1.490116119384765625e-8


@dataclass(frozen=True)
class NelderMeadResult:
    """Outcome of :func:`nelder_mead`."""

    # Lowest vertex of the final simplex (the best point evaluated).
    x: np.ndarray
    # Objective at ``x``; ``1e35`` stands for a non-finite value.
    fun: float
    # Every call of the objective, the start point and the start simplex included.
    n_evals: int
    # True when the spread or absolute test stopped the search; False when it ran out of
    # evaluations or the simplex stopped shrinking (it has collapsed).
    converged: bool


class _BudgetSpent(Exception):
    """Raised inside :func:`nelder_mead` when the next evaluation would exceed ``maxit``."""


def nelder_mead(
    fn: Callable[[np.ndarray], float],
    x0: np.ndarray,
    *,
    reltol: float = _SQRT_EPS,
    abstol: float = -np.inf,
    maxit: int = 500,
    alpha: float = 1.0,
    beta: float = 0.5,
    gamma: float = 2.0,
) -> NelderMeadResult:
    """Minimise ``fn`` from ``x0`` by Nash's Nelder-Mead simplex search (Algorithm 19).

    Parameters
    ----------
    fn : callable
        Objective taking a 1-D float array (a copy: changing it does no harm) and returning a
        scalar. NaN or infinite values are read as ``1e35``, so the search moves away from
        them.
    x0 : array_like
        Start point, 1-D, finite. ``fn(x0)`` must be finite: it sets the scale of the
        convergence test.
    reltol : float, default sqrt(machine epsilon)
        Relative tolerance: the search has converged when the highest value in the simplex is at
        most ``reltol * (|fn(x0)| + reltol)`` above the lowest.
    abstol : float, default -inf
        The search has also converged when the lowest value is at or below ``abstol``; useful
        for objectives bounded below by zero.
    maxit : int, default 500
        Most calls of ``fn`` allowed, the start point and start simplex included. The search
        never exceeds it: when it is spent mid-step, the best point evaluated so far is
        returned.
    alpha, beta, gamma : float, default 1.0, 0.5, 2.0
        Reflection, contraction (and shrink) and expansion coefficients.

    Returns
    -------
    NelderMeadResult
        Best point, its value, the number of evaluations and whether the tolerance was met.

    Raises
    ------
    ValueError
        If ``x0`` is empty, not 1-D or not finite, ``fn(x0)`` is not finite, or a setting is
        out of range.

    Notes
    -----
    The start simplex is ``x0`` and the ``n`` points ``x0 + step * e_i`` with ``step`` a tenth
    of ``max |x0_i|`` (0.1 when ``x0`` is zero). Each step reflects the highest vertex through
    the centroid of the others; a reflection below the lowest vertex is tried further out
    (expansion) and the lower of the two kept; any other reflection replaces the highest vertex
    if it is lower, and is followed by a contraction toward the centroid; when neither improves,
    every vertex moves halfway (``beta``) toward the lowest one and is evaluated again. If such
    a shrink fails to reduce the simplex's size (the sum of L1 distances to the lowest vertex),
    the simplex has collapsed and the search stops unconverged.

    References
    ----------
    J. A. Nelder and R. Mead, "A simplex method for function minimization", *Computer
    Journal* 7(4), 308-313, 1965. J. C. Nash, *Compact Numerical Methods for Computers*, 2nd ed.,
    Adam Hilger, 1990, Algorithm 19.

    Examples
    --------
    Rosenbrock's banana valley from ``(-1.2, 1)``, as in R's ``example(optim)``:

    >>> def banana(x):
    ...     return 100 * (x[1] - x[0] * x[0]) ** 2 + (1 - x[0]) ** 2
    >>> res = nelder_mead(banana, np.array([-1.2, 1.0]))
    >>> res.x.round(4).tolist(), res.n_evals, res.converged
    ([1.0003, 1.0005], 195, True)
    """
    x_start = np.array(x0, dtype=np.float64)
    if x_start.ndim != 1 or x_start.size == 0:
        raise ValueError(f"x0 must be a non-empty 1-D array, got shape {x_start.shape}")
    if not np.all(np.isfinite(x_start)):
        raise ValueError("x0 must be finite")
    if not reltol >= 0:
        raise ValueError(f"reltol must be >= 0, got {reltol}")
    if maxit < 1:
        raise ValueError(f"maxit must be >= 1 (the start point is evaluated), got {maxit}")
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    if not 0 < beta < 1:
        raise ValueError(f"beta must lie in (0, 1), got {beta}")
    if not gamma > 1:
        raise ValueError(f"gamma must be > 1, got {gamma}")

    n = x_start.size
    n_evals = 0
    best_x = x_start.copy()
    best_f = np.inf

    def evaluate(x: np.ndarray) -> float:
        nonlocal n_evals, best_x, best_f
        if n_evals >= maxit:
            raise _BudgetSpent
        n_evals += 1
        value = float(fn(x.copy()))
        if not np.isfinite(value):
            value = _BIG
        # Strict: on ties the earlier point stays, as the simplex's lowest vertex does.
        if value < best_f:
            best_x, best_f = x.copy(), value
        return value

    f_start = evaluate(x_start)
    if f_start == _BIG:
        raise ValueError("fn(x0) is not finite: the search needs a finite value to start from")
    convtol = reltol * (abs(f_start) + reltol)

    # Vertices are rows; the start point is row 0 and starts as the lowest.
    step = 0.1 * float(np.max(np.abs(x_start)))
    if step == 0.0:
        step = 0.1
    simplex = np.tile(x_start, (n + 1, 1))
    simplex[1:] += step * np.eye(n)
    values = np.empty(n + 1)
    values[0] = f_start
    lo = 0
    size = _simplex_size(simplex, lo)
    # The start simplex, like a shrunk one, needs every vertex but the lowest evaluated.
    stale = True

    try:
        while True:
            if stale:
                for j in range(n + 1):
                    if j != lo:
                        values[j] = evaluate(simplex[j])
                stale = False

            # The lowest index only moves to a strictly lower vertex, so ties resolve the same
            # way in every run; the highest starts from it and so is the first strict maximum.
            f_lo = f_hi = values[lo]
            hi = lo
            for j in range(n + 1):
                if values[j] < f_lo:
                    lo, f_lo = j, values[j]
                if values[j] > f_hi:
                    hi, f_hi = j, values[j]
            if f_hi <= f_lo + convtol or f_lo <= abstol:
                return NelderMeadResult(simplex[lo].copy(), float(f_lo), n_evals, True)

            # Centroid of all vertices but the highest: summed vertex by vertex from minus the
            # highest, so the rounding is the same whatever numpy's reduction order would be.
            centroid = -simplex[hi]
            for j in range(n + 1):
                centroid = centroid + simplex[j]
            centroid = centroid / n

            reflected = (1.0 + alpha) * centroid - alpha * simplex[hi]
            f_reflected = evaluate(reflected)
            if f_reflected < f_lo:
                expanded = gamma * reflected + (1.0 - gamma) * centroid
                f_expanded = evaluate(expanded)
                if f_expanded < f_reflected:
                    simplex[hi], values[hi] = expanded, f_expanded
                else:
                    simplex[hi], values[hi] = reflected, f_reflected
                continue

            # Nash contracts after every reflection that did not beat the lowest vertex,
            # starting from the better of the highest vertex and the reflected point.
            if f_reflected < f_hi:
                simplex[hi], values[hi] = reflected, f_reflected
            contracted = (1.0 - beta) * simplex[hi] + beta * centroid
            f_contracted = evaluate(contracted)
            if f_contracted < values[hi]:
                simplex[hi], values[hi] = contracted, f_contracted
            elif f_reflected >= f_hi:
                for j in range(n + 1):
                    if j != lo:
                        simplex[j] = beta * (simplex[j] - simplex[lo]) + simplex[lo]
                stale = True
                new_size = _simplex_size(simplex, lo)
                if not new_size < size:
                    # Shrinking no longer shrinks: the vertices coincide to rounding, and
                    # further steps cannot reduce the spread of values.
                    return NelderMeadResult(simplex[lo].copy(), float(f_lo), n_evals, False)
                size = new_size
    except _BudgetSpent:
        return NelderMeadResult(best_x, float(best_f), n_evals, False)


def _simplex_size(simplex: np.ndarray, lo: int) -> float:
    """Sum of the L1 distances from each vertex to vertex ``lo``: Nash's measure of size."""
    return float(np.sum(np.abs(simplex - simplex[lo])))

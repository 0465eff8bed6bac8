"""The multi-start projected BFGS polish: converges, respects the box, keeps starts apart."""

from __future__ import annotations

import numpy as np
import pytest

from tune_gamma.bo.polish import ValueAndGrad, polish

PEAK = np.array([0.3, 0.6, 0.45])
CURVATURE = np.array([1.0, 10.0, 100.0])  # condition number 100


def _quadratic(U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    D = U - PEAK
    return -np.sum(CURVATURE * D * D, axis=1), -2.0 * CURVATURE * D


class _Counted:
    """Wraps a value-and-gradient function and records the batch of every call."""

    def __init__(self, function: ValueAndGrad) -> None:
        self.function = function
        self.batches: list[np.ndarray] = []

    def __call__(self, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.batches.append(U.copy())
        return self.function(U)


def test_reaches_an_ill_conditioned_interior_maximum_from_every_start() -> None:
    starts = np.random.default_rng(0).random((4, 3))
    result = polish(_quadratic, starts, max_evaluations=40, ftol=1e-12)
    np.testing.assert_allclose(result.x, np.tile(PEAK, (4, 1)), atol=1e-4)
    np.testing.assert_allclose(result.values, _quadratic(result.x)[0])
    assert result.evaluations <= 40


def test_a_maximum_outside_the_box_ends_on_its_face_and_corner() -> None:
    def tilted(U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # peak at (1.4, 0.5, -0.3): x0 held at 1, x2 at 0, x1 free inside
        c = np.array([1.4, 0.5, -0.3])
        return -np.sum((U - c) ** 2, axis=1), -2.0 * (U - c)

    result = polish(tilted, np.array([[0.2, 0.9, 0.7], [0.99, 0.01, 0.01]]), max_evaluations=30)
    np.testing.assert_allclose(result.x, [[1.0, 0.5, 0.0]] * 2, atol=1e-6)
    assert np.all((result.x >= 0.0) & (result.x <= 1.0))


def test_each_start_follows_the_same_path_alone_or_in_company() -> None:
    """Starts do not share a line search: a start's result does not depend on the others."""
    starts = np.random.default_rng(1).random((3, 3))
    together = polish(_quadratic, starts, max_evaluations=12)
    for i in range(3):
        alone = polish(_quadratic, starts[i:i + 1], max_evaluations=12)
        np.testing.assert_array_equal(alone.x[0], together.x[i])
        assert alone.values[0] == together.values[i]


def test_every_call_is_one_batch_and_the_budget_holds() -> None:
    counted = _Counted(_quadratic)
    starts = np.random.default_rng(2).random((5, 3))
    result = polish(counted, starts, max_evaluations=6)
    assert len(counted.batches) == result.evaluations == 6
    np.testing.assert_array_equal(counted.batches[0], starts)
    assert all(b.shape[1] == 3 and 1 <= b.shape[0] <= 5 for b in counted.batches)


def test_stopped_starts_leave_the_batch() -> None:
    counted = _Counted(_quadratic)
    # one start already at the peak (zero gradient: stops at once), one far away
    polish(counted, np.array([PEAK, [0.9, 0.1, 0.9]]), max_evaluations=20)
    assert counted.batches[0].shape[0] == 2
    assert all(b.shape[0] == 1 for b in counted.batches[1:])


def test_never_steps_onto_a_non_finite_value() -> None:
    def walled(U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values, grads = _quadratic(U)
        # NaN beyond x0 > 0.2: the peak (x0 = 0.3) lies behind the wall
        return np.where(U[:, 0] > 0.2, np.nan, values), grads

    starts = np.array([[0.05, 0.1, 0.9], [0.15, 0.9, 0.1]])
    result = polish(walled, starts, max_evaluations=30)
    assert np.all(result.x[:, 0] <= 0.2)
    assert np.all(np.isfinite(result.values))
    assert np.all(result.values > _quadratic(starts)[0])  # and still improved


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_start_with_a_non_finite_value_stays_put(bad: float) -> None:
    def f(U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values, grads = _quadratic(U)
        return np.where(U[:, 1] > 0.95, bad, values), grads

    starts = np.array([[0.5, 0.99, 0.5], [0.5, 0.2, 0.5]])
    result = polish(f, starts, max_evaluations=30)
    np.testing.assert_array_equal(result.x[0], starts[0])
    assert result.values[0] == -np.inf
    np.testing.assert_allclose(result.x[1], PEAK, atol=1e-3)


def test_starts_outside_the_box_are_clipped_into_it() -> None:
    result = polish(_quadratic, np.array([[-0.5, 2.0, 0.45]]), max_evaluations=1)
    np.testing.assert_array_equal(result.x, [[0.0, 1.0, 0.45]])

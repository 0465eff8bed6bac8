"""The acquisition maximiser: finds optima, stays in the box, is deterministic under a seed."""

from __future__ import annotations

import numpy as np

from tune_gamma.bo import maximize
from tune_gamma.bo.maximize import boundary_points, sobol_points


def _bump(U: np.ndarray) -> np.ndarray:
    return -np.sum((U - np.array([0.3, 0.71])) ** 2, axis=1)


def _bump_grad(U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _bump(U), -2 * (U - np.array([0.3, 0.71]))


def test_finds_an_interior_maximum_with_and_without_gradients() -> None:
    for grad in (_bump_grad, None):
        res = maximize(_bump, 2, np.random.default_rng(0), value_and_grad=grad, n_candidates=64)
        np.testing.assert_allclose(res.x, [0.3, 0.71], atol=1e-4)
        assert res.value == res.values[0] == np.max(res.values)


def test_results_stay_inside_the_box_when_the_optimum_is_outside() -> None:
    def slope(U: np.ndarray) -> np.ndarray:
        return 3 * U[:, 0] - 2 * U[:, 1]

    res = maximize(slope, 2, np.random.default_rng(1), n_candidates=32)
    assert np.all((res.candidates >= 0) & (res.candidates <= 1))
    np.testing.assert_allclose(res.x, [1.0, 0.0], atol=1e-6)


def test_same_generator_seed_gives_the_same_answer() -> None:
    def wiggly(U: np.ndarray) -> np.ndarray:
        return np.sin(13 * U[:, 0]) * np.cos(7 * U[:, 1])

    a = maximize(wiggly, 2, np.random.default_rng(42))
    b = maximize(wiggly, 2, np.random.default_rng(42))
    c = maximize(wiggly, 2, np.random.default_rng(43))
    np.testing.assert_array_equal(a.candidates, b.candidates)
    assert not np.array_equal(a.candidates, c.candidates)


def test_non_finite_values_rank_last_and_extra_candidates_are_used() -> None:
    def spiky(U: np.ndarray) -> np.ndarray:
        out = np.where(U[:, 0] < 0.5, -np.inf, -np.abs(U[:, 0] - 0.9))
        return np.where(np.isclose(U[:, 0], 0.123456), np.nan, out)

    res = maximize(spiky, 1, np.random.default_rng(0), n_candidates=16, n_polish=0,
                   extra_candidates=np.array([[0.9], [0.123456]]))
    assert res.x[0] == 0.9
    assert res.values[-1] == -np.inf


def test_sobol_points_are_in_the_unit_cube_and_well_spread() -> None:
    pts = sobol_points(256, 3, np.random.default_rng(0))
    assert pts.shape == (256, 3)
    assert np.all((pts >= 0) & (pts < 1))
    counts = np.histogram(pts[:, 0], bins=8, range=(0, 1))[0]
    assert counts.min() == counts.max() == 32  # a (t, m, s)-net: exact strata


def test_a_maximum_in_a_corner_is_found_through_the_boundary_candidates() -> None:
    """A narrow peak in a corner, far from a broad interior bump: no interior candidate sees
    it, so only the corner candidates find it (the polish then moves it a hair inwards, up
    the bump's slope)."""
    corner = np.array([1.0, 0.0, 1.0])

    def peak(U: np.ndarray) -> np.ndarray:
        return (2.0 * np.exp(-np.sum((U - corner) ** 2, axis=1) / 1e-3)
                + np.exp(-np.sum((U - 0.4) ** 2, axis=1) / 0.1))

    with_boundary = maximize(peak, 3, np.random.default_rng(0), n_candidates=128)
    interior = maximize(peak, 3, np.random.default_rng(0), n_candidates=128, boundary=False)
    np.testing.assert_allclose(with_boundary.x, corner, atol=1e-5)
    assert with_boundary.value > 1.9 and interior.value < 1.1


def test_boundary_points_are_the_corners_and_projections_onto_faces_and_edges() -> None:
    points = np.random.default_rng(3).random((14, 3))
    out = boundary_points(points, max_corners=8)
    corners = out[:8]
    assert {tuple(c) for c in corners} == {(a, b, c) for a in (0.0, 1.0) for b in (0.0, 1.0)
                                           for c in (0.0, 1.0)}
    projected = out[8:]
    assert projected.shape == points.shape
    on_bound = (projected == 0.0) | (projected == 1.0)
    assert np.all(on_bound.any(axis=1))  # each on a face, an edge or a corner
    kept = ~on_bound
    np.testing.assert_array_equal(projected[kept], points[kept])  # the rest untouched
    np.testing.assert_array_equal(projected[on_bound], np.round(points[on_bound]))
    # all 7 non-empty subsets of coordinates come up within the first 7 points
    assert len({tuple(row) for row in on_bound[:7]}) == 7
    # too many corners to add: only the projections; one dimension: only the two ends
    assert boundary_points(points, max_corners=4).shape == points.shape
    np.testing.assert_array_equal(boundary_points(points[:, :1], max_corners=8), [[0.0], [1.0]])

"""Grid and random proposers of the baselines."""

import numpy as np
import pytest

from tune_gamma.bo.space import Dimension, SearchSpace
from tune_gamma.proposers import GridProposer, RandomProposer, grid_points


def test_one_dimensional_grid_is_the_thesis_grid_over_the_half_open_range():
    space = SearchSpace([Dimension("lr", 0.0, 0.5)])
    points = grid_points(space, 100)
    assert points.shape == (100, 1)
    assert points[0, 0] == pytest.approx(0.005) and points[-1, 0] == pytest.approx(0.5)
    assert np.all(np.diff(points[:, 0]) > 0)


def test_grid_on_log_dimension_is_log_spaced_and_cycles():
    space = SearchSpace([Dimension("lr", 1e-4, 1.0, log=True)])
    proposer = GridProposer(space, 4)
    asked = [proposer.ask()[0] for _ in range(5)]
    assert asked[:4] == pytest.approx([1e-3, 1e-2, 1e-1, 1.0])
    assert asked[4] == asked[0]


def test_two_dimensional_grid_is_full_factorial():
    space = SearchSpace([Dimension("a", 0, 1), Dimension("b", 0, 1)])
    points = grid_points(space, 100)
    assert points.shape == (100, 2) and len({tuple(p) for p in points}) == 100


def test_random_is_seeded_and_in_bounds():
    space = SearchSpace([Dimension("lr", 1e-4, 0.5, log=True), Dimension("n", 1, 8, integer=True)])
    a, b = RandomProposer(space, 3), RandomProposer(space, 3)
    pa = np.array([a.ask() for _ in range(50)])
    pb = np.array([b.ask() for _ in range(50)])
    np.testing.assert_array_equal(pa, pb)
    assert all(space.contains(p) for p in pa)
    assert set(pa[:, 1]) <= set(range(1, 9))


def test_bad_grid_size():
    with pytest.raises(ValueError, match="-1"):
        grid_points(SearchSpace([Dimension("lr", 0, 1)]), -1)

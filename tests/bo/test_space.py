"""The unit-cube mapping of search boxes."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tune_gamma.bo.space import Dimension, SearchSpace


@given(st.floats(0.0, 1.0))
def test_linear_and_log_round_trip(u):
    for dim in (Dimension("a", -2.0, 3.0), Dimension("b", 1e-4, 0.5, log=True)):
        x = dim.from_unit(u)
        assert dim.low <= x <= dim.high
        assert float(dim.to_unit(x)) == pytest.approx(u, abs=1e-9)


def test_log_midpoint_is_geometric_mean():
    assert float(Dimension("lr", 1e-4, 1.0, log=True).from_unit(0.5)) == pytest.approx(1e-2)


def test_integer_and_quantised_are_rounded_and_clipped():
    assert float(Dimension("n", 1, 8, integer=True).from_unit(0.49)) in set(range(1, 9))
    q = Dimension("m", 0.0, 0.9, q=0.1).from_unit(np.linspace(0, 1, 11))
    np.testing.assert_allclose(q, np.round(q, 1))
    assert q.min() >= 0.0 and q.max() <= 0.9


def test_space_vectors_and_dicts():
    space = SearchSpace([Dimension("lr", 1e-3, 1.0, log=True), Dimension("n", 1, 4, integer=True)])
    x = space.from_unit([[0.0, 0.0], [1.0, 1.0]])
    np.testing.assert_allclose(x, [[1e-3, 1], [1.0, 4]])
    np.testing.assert_allclose(space.to_unit(x), [[0, 0], [1, 1]])
    assert space.to_dict(x[1]) == {"lr": 1.0, "n": 4} and isinstance(space.to_dict(x[1])["n"], int)
    np.testing.assert_allclose(space.from_dict({"lr": 0.1, "n": 2}), [0.1, 2])
    assert space.contains([0.5, 2]) and not space.contains([2.0, 2])


@pytest.mark.parametrize("kwargs, bad", [
    ({"low": 1.0, "high": 1.0}, "low=1.0"),
    ({"low": 0.0, "high": 1.0, "log": True}, "low=0.0"),
    ({"low": 0.0, "high": float("inf")}, "inf"),
    ({"low": 0.0, "high": 1.0, "q": 0.0}, "q=0.0"),
])
def test_bad_dimensions_name_the_value(kwargs, bad):
    with pytest.raises(ValueError, match=bad):
        Dimension("lr", **kwargs)


def test_duplicate_names_rejected():
    with pytest.raises(ValueError, match="duplicate"):
        SearchSpace([Dimension("a", 0, 1), Dimension("a", 0, 2)])

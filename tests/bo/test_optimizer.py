"""BayesianOptimizer: the ask/tell contract the Ray searcher relies on."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from tune_gamma.bo import BayesianOptimizer, Dimension, Predictive, SearchSpace

PREDICTIVES = ["gamma", "gaussian"]


def _branin_like(x: np.ndarray) -> float:
    return float(-((x[0] - 0.3) ** 2) - 0.5 * (math.log10(x[1]) + 2) ** 2 + 0.1 * x[2])


def _mixed_space() -> SearchSpace:
    return SearchSpace([Dimension("a", -1.0, 2.0), Dimension("lr", 1e-4, 1.0, log=True),
                        Dimension("n", 1, 10, integer=True)])


def _run(opt: BayesianOptimizer, f, steps: int) -> list[np.ndarray]:
    out = []
    for _ in range(steps):
        x = opt.ask()
        opt.tell(x, f(x))
        out.append(x)
    return out


def _quadratic(x: np.ndarray) -> float:
    return float(-np.sum((np.asarray(x) - 0.3) ** 2))


@pytest.mark.parametrize("predictive", PREDICTIVES)
def test_proposals_stay_in_bounds_and_are_rounded(predictive: str) -> None:
    space = SearchSpace([Dimension("a", -1.0, 2.0), Dimension("lr", 1e-4, 1.0, log=True),
                         Dimension("n", 1, 10, integer=True), Dimension("q", 0.0, 1.0, q=0.25)])
    opt = BayesianOptimizer(space, predictive, n_initial=3, seed=0)
    xs = _run(opt, lambda x: _branin_like(x) + x[3], 14)
    for x in xs:
        assert x.shape == (4,)
        assert space.contains(x)
        assert x[2] == round(x[2])
        assert x[3] / 0.25 == round(x[3] / 0.25)


def test_log_dimension_spreads_over_decades() -> None:
    space = SearchSpace([Dimension("lr", 1e-5, 1.0, log=True)])
    opt = BayesianOptimizer(space, n_initial=40, seed=1)
    xs = np.array([opt.ask()[0] for _ in range(40)])  # all in the random phase (pending-free)
    decades = np.floor(np.log10(xs)).astype(int)
    assert len(set(decades.tolist())) >= 4
    assert np.mean(xs < 1e-2) > 0.3  # a linear spread would put ~1 % of points there


def test_log_dimension_optimum_found_in_log_space() -> None:
    space = SearchSpace([Dimension("lr", 1e-5, 1.0, log=True)])
    opt = BayesianOptimizer(space, n_initial=3, seed=2)
    _run(opt, lambda x: -(math.log10(x[0]) + 3.3) ** 2, 14)
    best = opt.best()
    assert best is not None
    assert abs(math.log10(best[0][0]) + 3.3) < 0.15


@pytest.mark.parametrize("fantasy", ["kriging_believer", "constant_liar"])
@pytest.mark.parametrize("predictive", PREDICTIVES)
def test_pending_points_get_distinct_proposals(fantasy: str, predictive: str) -> None:
    space = SearchSpace.from_bounds([(0.0, 1.0), (0.0, 1.0)])
    opt = BayesianOptimizer(space, predictive, fantasy=fantasy, seed=3)
    _run(opt, _quadratic, 6)
    batch = opt.ask_batch(5)
    assert batch.shape == (5, 2)
    assert len({tuple(r) for r in batch.tolist()}) == 5
    assert np.min([np.linalg.norm(a - b) for i, a in enumerate(batch) for b in batch[i + 1:]]) \
        > 1e-3
    pending = batch[:3]
    x = opt.ask(pending)
    assert all(not np.allclose(x, p) for p in pending)


def test_pending_points_count_towards_the_initial_phase() -> None:
    space = SearchSpace.from_bounds([(0.0, 1.0)])
    opt = BayesianOptimizer(space, n_initial=4, seed=4)
    _run(opt, _quadratic, 3)
    assert opt.has_model
    clone = pickle.loads(pickle.dumps(opt))
    random_draw = clone.space.from_unit(clone._rng.random(1))
    # 3 observed < 4: still the random phase, the next draw of the generator
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(opt)).ask(), random_draw)
    # 3 observed + 1 pending = 4: the initial phase is over and EI proposes
    assert not np.allclose(opt.ask(np.array([[0.9]])), random_draw)


def test_initial_points_come_first_then_random_until_two_finite_values() -> None:
    space = SearchSpace.from_bounds([(0.0, 10.0)])
    opt = BayesianOptimizer(space, n_initial=2, initial_points=[[1.0], [9.0]], seed=5)
    assert opt.ask()[0] == 1.0
    opt.tell([1.0], math.nan)
    assert opt.ask()[0] == 9.0
    opt.tell([9.0], 2.0)
    assert not opt.has_model  # only one finite value: keep exploring at random
    x = opt.ask()
    opt.tell(x, 3.0)
    assert opt.has_model and opt.n_observations == 3 and opt.n_finite == 2


def test_initial_points_keep_continuous_values_and_round_discrete_ones() -> None:
    space = SearchSpace([Dimension("a", 0.0, 1.0), Dimension("n", 1, 10, integer=True),
                         Dimension("lr", 1e-4, 1.0, log=True)])
    opt = BayesianOptimizer(space, initial_points=[[0.123456789, 3.4, 0.01]], seed=0)
    assert opt.ask().tolist() == [0.123456789, 3.0, 0.01]


@pytest.mark.parametrize("predictive", PREDICTIVES)
def test_same_seed_gives_the_same_proposals(predictive: str) -> None:
    space = _mixed_space()
    runs = [_run(BayesianOptimizer(space, predictive, seed=s), _branin_like, 8)
            for s in (7, 7, 8)]
    np.testing.assert_array_equal(np.array(runs[0]), np.array(runs[1]))
    assert not np.array_equal(np.array(runs[0]), np.array(runs[2]))


def test_predict_and_acquisition_do_not_change_the_proposals() -> None:
    space = SearchSpace.from_bounds([(0.0, 1.0)])
    plain = BayesianOptimizer(space, seed=9)
    probed = BayesianOptimizer(space, seed=9)
    grid = np.linspace(0, 1, 11)[:, None]
    for _ in range(7):
        if probed.has_model:
            probed.predict(grid)
            probed.acquisition(grid)
        a, b = plain.ask(), probed.ask()
        np.testing.assert_array_equal(a, b)
        plain.tell(a, _quadratic(a))
        probed.tell(b, _quadratic(b))


@pytest.mark.parametrize("predictive", PREDICTIVES)
def test_failed_evaluations_never_become_best_nor_break_ask(predictive: str) -> None:
    space = SearchSpace.from_bounds([(0.0, 1.0), (0.0, 1.0)])
    opt = BayesianOptimizer(space, predictive, seed=10)
    assert opt.best() is None
    opt.tell([0.5, 0.5], math.nan)
    assert opt.best() is None
    for i in range(12):
        x = opt.ask()
        y = [math.nan, math.inf, -math.inf][i % 3] if i % 2 == 0 else _quadratic(x)
        opt.tell(x, y)
        best = opt.best()
        if best is not None:
            assert math.isfinite(best[1])
    assert opt.n_observations == 13
    x = opt.ask()
    assert space.contains(x)
    pred = opt.predict(np.array([[0.3, 0.3], [0.9, 0.9]]))
    assert np.all(np.isfinite(pred.mean)) and np.all(np.isfinite(pred.scale))


def test_failures_count_as_the_worst_finite_value() -> None:
    space = SearchSpace.from_bounds([(0.0, 1.0)])
    opt = BayesianOptimizer(space, seed=11)
    for x, y in [(0.1, 1.0), (0.5, 3.0), (0.9, math.nan)]:
        opt.tell([x], y)
    np.testing.assert_array_equal(opt._gp.y, [1.0, 3.0, 1.0])
    opt.tell([0.3], -2.0)  # a new worst value moves the substitute with it
    np.testing.assert_array_equal(opt._gp.y, [1.0, 3.0, -2.0, -2.0])


@pytest.mark.parametrize("predictive", PREDICTIVES)
def test_min_mode_finds_the_minimum(predictive: str) -> None:
    space = SearchSpace.from_bounds([(-2.0, 3.0)])
    opt = BayesianOptimizer(space, predictive, mode="min", seed=12)
    _run(opt, lambda x: float((x[0] - 1.234) ** 2 + 5.0), 14)
    best = opt.best()
    assert best is not None
    # ξ = 0.01 (in units of the std of y) stops EI from polishing below ~1e-3 of the range
    assert abs(best[0][0] - 1.234) < 0.05
    assert 5.0 <= best[1] < 5.003
    pred = opt.predict(np.array([[1.234], [-2.0]]))
    assert pred.mean[0] < pred.mean[1]  # original units, minimised function
    assert abs(pred.mean[0] - 5.0) < 0.1


def test_max_and_min_modes_are_mirror_images() -> None:
    space = SearchSpace.from_bounds([(0.0, 1.0)])
    up = BayesianOptimizer(space, mode="max", seed=13)
    down = BayesianOptimizer(space, mode="min", seed=13)
    for _ in range(8):
        a, b = up.ask(), down.ask()
        np.testing.assert_array_equal(a, b)
        up.tell(a, math.sin(6 * a[0]))
        down.tell(b, -math.sin(6 * b[0]))
    grid = np.linspace(0, 1, 7)[:, None]
    np.testing.assert_allclose(up.predict(grid).mean, -down.predict(grid).mean)
    np.testing.assert_allclose(up.acquisition(grid), down.acquisition(grid))
    assert up.best()[1] == -down.best()[1]


@pytest.mark.parametrize("predictive", PREDICTIVES)
def test_pickle_round_trip_mid_run_continues_identically(predictive: str) -> None:
    space = _mixed_space()
    opt = BayesianOptimizer(space, predictive, seed=14)
    _run(opt, _branin_like, 6)
    clone = pickle.loads(pickle.dumps(opt))
    a = [*_run(opt, _branin_like, 5), opt.ask_batch(3)]
    b = [*_run(clone, _branin_like, 5), clone.ask_batch(3)]
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("predictive", PREDICTIVES)
def test_predict_and_acquisition_shapes_and_units(predictive: str) -> None:
    space = SearchSpace.from_bounds([(0.0, 1.0)])
    opt = BayesianOptimizer(space, predictive, seed=15)
    with pytest.raises(RuntimeError, match="two finite"):
        opt.predict(np.array([[0.5]]))
    for x in (0.1, 0.5, 0.9, 0.3):
        opt.tell([x], 1000.0 + 50.0 * math.sin(5 * x))
    grid = np.linspace(0, 1, 9)[:, None]
    pred = opt.predict(grid)
    assert isinstance(pred, Predictive)
    assert pred.mean.shape == pred.scale.shape == (9,)
    assert (pred.dof is None) == (predictive == "gaussian")
    assert np.all(np.abs(pred.mean - 1000.0) < 100.0)  # original units
    np.testing.assert_allclose(opt.predict(np.array([[0.5]])).mean,
                               1000.0 + 50.0 * math.sin(2.5), atol=0.5)
    ei = opt.acquisition(grid)
    assert ei.shape == (9,) and np.all(ei >= 0)


@pytest.mark.parametrize("kernel", ["matern52", "rbf"])
def test_both_kernels_optimise_a_smooth_function(kernel: str) -> None:
    space = SearchSpace.from_bounds([(0.0, 1.0), (0.0, 1.0)])
    opt = BayesianOptimizer(space, kernel=kernel, seed=16)
    _run(opt, _quadratic, 16)
    assert opt.best()[1] > -0.01


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"predictive": "student"}, "'student'"),
    ({"kernel": "cosine"}, "'cosine'"),
    ({"fantasy": "optimist"}, "'optimist'"),
    ({"mode": "maximize"}, "'maximize'"),
    ({"xi": -0.5}, "xi=-0.5"),
    ({"prior_shape": 0.0}, "prior_shape=0.0"),
    ({"prior_rate": -1.0}, "prior_rate=-1.0"),
    ({"n_initial": -1}, "n_initial=-1"),
    ({"initial_points": [[0.1, 0.2]]}, "dimension 2"),
    ({"initial_points": [[5.0]]}, r"\[5.0\]"),
])
def test_bad_arguments_raise_value_error_naming_the_value(kwargs: dict, needle: str) -> None:
    space = SearchSpace.from_bounds([(0.0, 1.0)])
    with pytest.raises(ValueError, match=needle):
        BayesianOptimizer(space, **kwargs)


def test_points_of_the_wrong_dimension_are_rejected() -> None:
    opt = BayesianOptimizer(SearchSpace.from_bounds([(0.0, 1.0), (0.0, 1.0)]), seed=0)
    with pytest.raises(ValueError, match="dimension 3"):
        opt.tell([0.1, 0.2, 0.3], 1.0)
    with pytest.raises(ValueError, match=r"\(1, 3\)"):
        opt.ask(np.array([[0.1, 0.2, 0.3]]))
    with pytest.raises(ValueError, match="n=-1"):
        opt.ask_batch(-1)

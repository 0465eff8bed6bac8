"""The searchers' own behaviour, driven through Ray's Searcher interface directly."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from ray import tune
from ray.tune.search import Searcher

from tune_gamma import GammaSearcher, GaussianSearcher, GridSearcher, RandomSearcher


def _searcher(cls=GammaSearcher, config=None, **kwargs):
    searcher = cls(**kwargs)
    assert searcher.set_search_properties("kappa", "max",
                                          config or {"lr": tune.loguniform(1e-4, 0.5)})
    return searcher


def _objective(config):
    return -(math.log10(config["lr"]) + 1.5) ** 2  # peak at lr = 10^-1.5


def _drive(searcher, n, start=0):
    configs = []
    for i in range(start, start + n):
        config = searcher.suggest(f"t{i}")
        searcher.on_trial_complete(f"t{i}", {"kappa": _objective(config)})
        configs.append(config)
    return configs


@pytest.mark.parametrize("cls", [GammaSearcher, GaussianSearcher, RandomSearcher, GridSearcher])
def test_works_with_no_arguments_and_takes_space_metric_mode_from_tune(cls):
    searcher = _searcher(cls)
    configs = _drive(searcher, 6)
    assert all(1e-4 <= c["lr"] <= 0.5 for c in configs)


def test_bayesian_search_finds_the_peak_better_than_chance():
    searcher = _searcher(seed=0)
    configs = _drive(searcher, 14)
    best = max(configs, key=_objective)
    assert abs(math.log10(best["lr"]) + 1.5) < 0.25


def test_pending_trials_get_distinct_points():
    searcher = _searcher(seed=1)
    _drive(searcher, 3)
    live = [searcher.suggest(f"p{i}")["lr"] for i in range(4)]
    assert len(set(live)) == 4


def test_same_seed_same_search_and_restore_continues_identically(tmp_path):
    a, b = _searcher(seed=7), _searcher(seed=7)
    assert _drive(a, 5) == _drive(b, 5)
    path = tmp_path / "state.pkl"
    a.save(str(path))
    restored = GammaSearcher()
    restored.restore(str(path))
    assert _drive(restored, 4, start=5) == _drive(a, 4, start=5)
    assert pickle.loads(pickle.dumps(restored)).seed == 7


def test_no_seed_draws_one_and_keeps_it():
    searcher = _searcher()
    assert isinstance(searcher.seed, int)
    state = searcher.get_state()
    assert state["seed"] == searcher.seed


def test_nan_and_inf_results_never_become_the_incumbent():
    searcher = _searcher(seed=2)
    for i, value in enumerate([math.nan, 0.5, math.inf, -math.inf, 0.1, math.nan, 0.3]):
        searcher.suggest(f"t{i}")
        searcher.on_trial_complete(f"t{i}", {"kappa": value, "loss": 0.2})
    _, best = searcher._proposer.best()
    assert best == pytest.approx(0.5)
    assert 1e-4 <= searcher.suggest("next")["lr"] <= 0.5


def test_errors_and_missing_metrics_count_as_failures():
    searcher = _searcher(seed=3)
    searcher.suggest("a")
    searcher.on_trial_complete("a", error=True)
    searcher.suggest("b")
    searcher.on_trial_complete("b", {"other": 1.0})
    searcher.suggest("c")
    searcher.on_trial_complete("c", {"kappa": 0.2})
    assert searcher._proposer.best()[1] == pytest.approx(0.2)


def test_floor_signal_turns_flat_zeros_into_a_direction():
    searcher = _searcher(seed=4)
    assert searcher.signal({"kappa": 0.0, "accuracy": 0.4, "loss": 1.1}) == pytest.approx(-0.7)
    assert searcher.signal({"kappa": 0.3, "accuracy": 0.9, "loss": 0.2}) == 0.3
    assert math.isnan(searcher.signal({"kappa": 0.0, "accuracy": 0.1, "loss": math.nan}))
    plain = _searcher(seed=4, floor_signal=False)
    assert plain.signal({"kappa": 0.0, "accuracy": 0.4, "loss": 1.1}) == 0.0


def test_several_dimensions_constants_and_nesting():
    config = {"lr": tune.loguniform(1e-4, 0.5), "momentum": tune.uniform(0.0, 0.99),
              "weight_decay": tune.loguniform(1e-6, 1e-2), "batch_size": 50,
              "opt": {"beta": tune.quniform(0.1, 0.9, 0.1)}}
    searcher = _searcher(config=config, seed=5)
    for i in range(5):
        c = searcher.suggest(f"t{i}")
        assert c["batch_size"] == 50 and 0 <= c["momentum"] <= 0.99
        assert 1e-6 <= c["weight_decay"] <= 1e-2
        assert round(c["opt"]["beta"], 6) in {round(0.1 * k, 6) for k in range(1, 10)}
        searcher.on_trial_complete(f"t{i}", {"kappa": -c["momentum"]})


def test_space_given_to_the_searcher_directly():
    searcher = GammaSearcher(space={"lr": tune.uniform(0.1, 0.2), "seed": 3}, metric="kappa",
                             mode="max", seed=0)
    assert not searcher.set_search_properties(None, None, {})
    config = searcher.suggest("a")
    assert 0.1 <= config["lr"] <= 0.2 and config["seed"] == 3


def test_points_to_evaluate_come_first_and_add_evaluated_point_informs():
    searcher = _searcher(seed=6, points_to_evaluate=[{"lr": 0.01}, {"lr": 0.3}])
    assert searcher.suggest("a")["lr"] == pytest.approx(0.01)
    assert searcher.suggest("b")["lr"] == pytest.approx(0.3)
    searcher.add_evaluated_point({"lr": 0.05}, 0.9)
    assert searcher._proposer.best()[1] == pytest.approx(0.9)
    with pytest.raises(ValueError, match="outside the search space"):
        _searcher(points_to_evaluate=[{"lr": 2.0}])


def test_max_concurrency_holds_back_proposals():
    searcher = _searcher(seed=8)
    assert searcher.set_max_concurrency(2)
    assert searcher.suggest("a") is not None and searcher.suggest("b") is not None
    assert searcher.suggest("c") is None
    searcher.on_trial_complete("a", {"kappa": 0.1})
    assert searcher.suggest("c") is not None


def test_rounds_use_a_fresh_proposer_and_finish():
    searcher = _searcher(GridSearcher, config={"lr": tune.uniform(0.0, 0.5)}, points=5)
    book = searcher.enable_rounds(rounds=2, metric="kappa", mode="max")
    seen = []
    for r in range(2):
        lrs = []
        for i in range(5):
            config = searcher.suggest(f"r{r}t{i}")
            lrs.append(config["lr"])
        assert searcher.suggest("waiting") is None  # the round is full until it closes
        for i, lr in enumerate(lrs):
            searcher.on_trial_complete(f"r{r}t{i}", {"kappa": lr})
            book.record_result(f"r{r}t{i}", {"kappa": lr}, f"/c/{r}/{i}")
        book.close_round(book.current)
        seen.append(lrs)
    assert seen[0] == seen[1] == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5])
    assert searcher.suggest("done") == Searcher.FINISHED
    assert book.schedule == [{"lr": pytest.approx(0.5)}] * 2


def test_round_left_open_without_scheduler_is_reported():
    searcher = _searcher(RandomSearcher, samples_per_round=2, seed=9)
    searcher.enable_rounds(rounds=2, metric="kappa", mode="max")
    _drive(searcher, 2)
    with pytest.raises(RuntimeError, match="pass it as the scheduler"):
        searcher.suggest("x")


@pytest.mark.parametrize("kwargs, bad", [
    ({"samples_per_round": 0}, "0"), ({"mode": "up"}, "up"), ({"max_concurrent": 0}, "0"),
    ({"xi": -1.0}, "-1"), ({"kernel": "cubic"}, "cubic"),
])
def test_bad_arguments_name_the_value(kwargs, bad):
    with pytest.raises(ValueError, match=bad):
        GammaSearcher(**kwargs)


def test_unsupported_domain_is_named_before_any_trial():
    with pytest.raises(ValueError, match="'act'"):
        GammaSearcher().set_search_properties("kappa", "max", {"lr": tune.uniform(0, 1),
                                                               "act": tune.choice(["a", "b"])})


def test_suggest_without_space_or_metric_explains():
    with pytest.raises(RuntimeError, match="space"):
        GammaSearcher(metric="kappa", mode="max").suggest("a")
    searcher = GammaSearcher(space={"lr": tune.uniform(0, 1)})
    with pytest.raises(RuntimeError, match="metric"):
        searcher.suggest("a")


def test_proposals_stay_in_bounds_on_integer_and_log_dimensions():
    config = {"lr": tune.loguniform(1e-5, 1.0), "batch": tune.randint(8, 65)}
    searcher = _searcher(config=config, seed=10)
    values = []
    for i in range(10):
        c = searcher.suggest(f"t{i}")
        values.append(c)
        searcher.on_trial_complete(f"t{i}", {"kappa": -abs(np.log10(c["lr"]) + 2)})
    assert all(isinstance(c["batch"], int) and 8 <= c["batch"] <= 64 for c in values)
    assert all(1e-5 <= c["lr"] <= 1.0 for c in values)

"""The in-process round loop (no Ray runtime): rounds, winners, lineage of weights, seeds."""

from __future__ import annotations

import math

import pytest
import torch
from ray import tune

from tune_gamma.local import MEMORY_PREFIX, run_rounds_in_process
from tune_gamma.training.data import load_dataset
from tune_gamma.training.loop import (
    evaluate,
    make_optimizer,
    set_hyperparameters,
    to_device,
    train_one_epoch,
)
from tune_gamma.training.models import build_model
from tune_gamma.training.trainable import TrainSpec, epoch_seed
from tune_gamma.tune.searchers import GammaSearcher, RandomSearcher

SPEC = TrainSpec(data="digits", setting="500", model="mlp6", seed=0, momentum=0.9)
SPACE = {"lr": tune.loguniform(0.01, 0.1)}


@pytest.fixture(scope="module")
def splits():
    return load_dataset(SPEC.data, setting=SPEC.setting, seed=SPEC.seed)


@pytest.fixture(scope="module")
def result(splits):
    return run_rounds_in_process(SPEC, GammaSearcher(samples_per_round=3, seed=5), SPACE,
                                 rounds=2, splits=splits)


def _rank(trial: dict) -> tuple[float, float, float]:
    m = trial["metrics"]
    return (m["kappa"], m["accuracy"], -m["loss"])


def _numbers(metrics: dict) -> dict:
    """The metrics without the timings, which vary from run to run."""
    return {k: v for k, v in metrics.items() if not k.endswith("time_s")}


def _winner(record: dict) -> dict:
    return next(t for t in record["trials"] if t["trial_id"] == record["winner"])


def test_two_rounds_of_three_with_a_schedule(result) -> None:
    assert len(result.schedule) == 2 and all(0.01 <= c["lr"] <= 0.1 for c in result.schedule)
    assert [len(r["trials"]) for r in result.rounds] == [3, 3]
    assert all(r["closed"] for r in result.rounds)
    assert [_winner(r)["config"] for r in result.rounds] == result.schedule
    assert len(result.trials) == 6 and all(t.error is None for t in result.trials)
    assert result.timing["total_s"] >= result.timing["epoch_s"] > 0


def test_each_round_is_won_by_its_best_trial(result) -> None:
    for record in result.rounds:
        best = max(_rank(t) for t in record["trials"])
        assert _rank(_winner(record)) == best
        assert all(math.isfinite(t["metrics"]["kappa"]) for t in record["trials"])


def test_round_two_trains_on_round_one_winner(result, splits) -> None:
    """Replay with the training loop alone: round 0's winner, then one epoch at a round-1
    learning rate from its weights and optimizer state must give that trial's numbers."""
    first, second = result.rounds
    assert second["start_checkpoint"] == MEMORY_PREFIX + first["winner"]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        X, y = to_device(*splits.train, "cpu")
        Xv, yv = to_device(*splits.val, "cpu")
        torch.manual_seed(SPEC.seed)
        model = build_model(SPEC.model, splits.input_shape, splits.num_classes, SPEC.dropout)
        optimizer = make_optimizer("sgd", model.parameters(), result.schedule[0]["lr"],
                                   SPEC.momentum)
        generator = torch.Generator()
        for epoch, lr in enumerate((result.schedule[0]["lr"], result.schedule[1]["lr"])):
            set_hyperparameters(optimizer, lr, SPEC.momentum)
            seed = epoch_seed(SPEC.seed, epoch)
            generator.manual_seed(seed)
            torch.manual_seed(seed)
            train_one_epoch(model, optimizer, X, y, SPEC.batch_size, generator)
        replayed = evaluate(model, Xv, yv)
    finally:
        torch.set_num_threads(threads)
    winner = _winner(second)
    assert replayed["loss"] == pytest.approx(winner["metrics"]["loss"], rel=1e-6)
    assert replayed["accuracy"] == winner["metrics"]["accuracy"]
    for key, tensor in model.state_dict().items():
        torch.testing.assert_close(result.final_payload["model"][key], tensor)
    assert result.final_payload["lineage"] == [first["winner"], second["winner"]]
    assert result.final_payload["epochs_trained"] == 2


def test_same_seed_same_schedule_and_numbers(result, splits) -> None:
    again = run_rounds_in_process(SPEC, GammaSearcher(samples_per_round=3, seed=5), SPACE,
                                  rounds=2, splits=splits)
    assert again.schedule == result.schedule
    assert [_numbers(t.metrics) for t in again.trials] == [_numbers(t.metrics)
                                                           for t in result.trials]
    other = run_rounds_in_process(SPEC, GammaSearcher(samples_per_round=3, seed=6), SPACE,
                                  rounds=2, splits=splits)
    assert [t.config for t in other.trials] != [t.config for t in result.trials]


def test_proposers_are_the_searchers_own(splits) -> None:
    """Round r's proposals are those of ``searcher.new_proposer(r)``, one at a time."""
    searcher = RandomSearcher(samples_per_round=2, seed=9)
    out = run_rounds_in_process(SPEC, searcher, SPACE, rounds=2, splits=splits)
    for record in out.rounds:
        proposer = searcher.new_proposer(record["round"])
        expected = [float(proposer.ask()[0]) for _ in record["trials"]]
        assert [t["config"]["lr"] for t in record["trials"]] == pytest.approx(expected)


def test_bad_arguments_are_refused(splits) -> None:
    with pytest.raises(ValueError, match="rounds"):
        run_rounds_in_process(SPEC, GammaSearcher(seed=0), SPACE, rounds=0, splits=splits)
    used = GammaSearcher(samples_per_round=1, seed=0)
    run_rounds_in_process(SPEC, used, SPACE, rounds=1, splits=splits)
    with pytest.raises(ValueError, match="fresh"):
        run_rounds_in_process(SPEC, used, SPACE, rounds=1, splits=splits)
    with pytest.raises(ValueError, match="points_to_evaluate"):
        run_rounds_in_process(SPEC, GammaSearcher(seed=0, points_to_evaluate=[{"lr": 0.05}]),
                              SPACE, rounds=1, splits=splits)

"""RoundScheduler with tune_gamma's searchers on a real local Ray: rounds, lineage, failures."""

from __future__ import annotations

import json
import math
import os

import pytest
from ray import tune
from ray.tune.schedulers import ASHAScheduler

from tests.tune.toy import NAN_LR, RAISE_LR, pbt_style_trainable, read_state
from tune_gamma import GammaSearcher, RandomSearcher, RoundScheduler
from tune_gamma.rounds import RoundFailedError
from tune_gamma.training.trainable import TrainSpec, make_trainable, read_checkpoint

pytestmark = pytest.mark.usefixtures("ray_session")


class EventLog(tune.Callback):
    """Order of trial starts and ends as Tune's own callbacks see them."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def on_trial_start(self, iteration, trials, trial, **info):
        self.events.append(("start", trial.trial_id))

    def on_trial_complete(self, iteration, trials, trial, **info):
        self.events.append(("end", trial.trial_id))

    def on_trial_error(self, iteration, trials, trial, **info):
        self.events.append(("end", trial.trial_id))


def _run(trainable, searcher, scheduler, tmp_path, config=None, **kwargs):
    return tune.run(trainable, config=config or {"lr": tune.uniform(0.01, 0.5)},
                    search_alg=searcher, scheduler=scheduler, metric="kappa", mode="max",
                    num_samples=-1, reuse_actors=True, storage_path=str(tmp_path),
                    name="exp", verbose=0, raise_on_failed_trial=False, **kwargs)


def _assert_round_invariants(scheduler, events):
    rounds = scheduler.rounds
    for r, record in enumerate(rounds):
        done = [t for t in record["trials"] if t["status"] == "done"]
        finite = [t for t in done if math.isfinite(t["metrics"].get("kappa", math.nan))]
        best = max(t["metrics"]["kappa"] for t in finite)
        winner = next(t for t in record["trials"] if t["trial_id"] == record["winner"])
        assert winner["metrics"]["kappa"] == best, f"round {r}: the winner is not its best"
        if r == 0:
            continue
        previous = rounds[r - 1]
        assert record["start_checkpoint"] == next(
            t["checkpoint"] for t in previous["trials"] if t["trial_id"] == previous["winner"])
        # No trial of round r started before every trial of round r-1 had ended.
        last_end = max(events.index(("end", t["trial_id"])) for t in previous["trials"])
        first_start = min(events.index(("start", t["trial_id"])) for t in record["trials"])
        assert first_start > last_end, f"round {r} started before round {r - 1} closed"


def test_digits_end_to_end_three_rounds_of_four(tmp_path):
    spec = TrainSpec(data="digits", setting="500", model="mlp6", seed=0)
    scheduler, events = RoundScheduler(rounds=3), EventLog()
    analysis = _run(make_trainable(spec), GammaSearcher(samples_per_round=4, seed=1), scheduler,
                    tmp_path, config={"lr": tune.loguniform(1e-3, 0.5)},
                    max_concurrent_trials=2, callbacks=[events])
    assert len(scheduler.schedule) == 3 and all("lr" in c for c in scheduler.schedule)
    assert len(analysis.trials) == 12
    _assert_round_invariants(scheduler, events.events)
    # Only the winners' checkpoints are left (a loser's is deleted once it cannot win), and
    # their lineage runs through every earlier winner.
    for r, record in enumerate(scheduler.rounds):
        for trial in record["trials"]:
            if trial["trial_id"] != record["winner"]:
                assert trial["checkpoint_deleted"] and not os.path.exists(trial["checkpoint"])
                continue
            assert not trial["checkpoint_deleted"]
            payload = read_checkpoint(trial["checkpoint"])
            assert payload["epochs_trained"] == r + 1
            assert payload["lineage"] == [rr["winner"] for rr in scheduler.rounds[: r + 1]]
    # rounds.json and the round-level TensorBoard scalars sit in the experiment directory.
    with open(os.path.join(analysis.experiment_path, "rounds.json")) as f:
        saved = json.load(f)
    assert [r["winner"] for r in saved["rounds"]] == [r["winner"] for r in scheduler.rounds]
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(os.path.join(analysis.experiment_path, "rounds"))
    accumulator.Reload()
    for tag in ("round/winner_kappa", "round/winner_accuracy", "round/winner_loss",
                "round/winner_lr"):
        assert [e.step for e in accumulator.Scalars(tag)] == [0, 1, 2], tag
    lrs = [e.value for e in accumulator.Scalars("round/winner_lr")]
    assert lrs == pytest.approx([c["lr"] for c in scheduler.schedule], rel=1e-6)


def test_plain_pbt_trainable_runs_in_rounds(tmp_path):
    scheduler, events = RoundScheduler(rounds=3, keep_losing_checkpoints=True), EventLog()
    _run(pbt_style_trainable, RandomSearcher(samples_per_round=3, seed=2), scheduler, tmp_path,
         callbacks=[events])
    _assert_round_invariants(scheduler, events.events)
    trials = [t for record in scheduler.rounds for t in record["trials"]]
    assert all(os.path.isdir(t["checkpoint"]) and not t["checkpoint_deleted"] for t in trials)
    for r, record in enumerate(scheduler.rounds):
        winner = next(t for t in record["trials"] if t["trial_id"] == record["winner"])
        state = read_state(winner["checkpoint"])
        assert len(state["lineage"]) == r + 1
        lrs = [scheduler.schedule[i]["lr"] for i in range(r + 1)]
        assert state["w"] == pytest.approx(sum(lrs))


def test_a_raising_and_a_diverging_trial_leave_the_round_intact(tmp_path):
    scheduler = RoundScheduler(rounds=2)
    searcher = GammaSearcher(samples_per_round=4, seed=3,
                             points_to_evaluate=[{"lr": RAISE_LR}, {"lr": NAN_LR}])
    _run(pbt_style_trainable, searcher, scheduler, tmp_path)
    first = scheduler.rounds[0]
    by_lr = {round(t["config"]["lr"], 3): t for t in first["trials"]}
    assert by_lr[RAISE_LR]["status"] == "error"
    assert by_lr[NAN_LR]["status"] == "done"
    assert first["winner"] not in (by_lr[RAISE_LR]["trial_id"], by_lr[NAN_LR]["trial_id"])
    assert len(scheduler.schedule) == 2 and scheduler.rounds[1]["closed"]


def test_a_round_without_survivors_stops_with_a_clear_error(tmp_path):
    scheduler = RoundScheduler(rounds=2)
    with pytest.raises(Exception) as info:
        _run(pbt_style_trainable, RandomSearcher(samples_per_round=2, seed=4), scheduler,
             tmp_path, config={"lr": tune.uniform(RAISE_LR, RAISE_LR + 1e-12)})
    assert isinstance(info.value, RoundFailedError) or "round 0: all 2 trials failed" in str(
        info.value)


def test_round_scheduler_refuses_a_foreign_searcher(tmp_path):
    with pytest.raises(Exception, match="RoundScheduler needs one of tune_gamma's searchers"):
        tune.run(pbt_style_trainable, config={"lr": tune.uniform(0.01, 0.5)},
                 scheduler=RoundScheduler(rounds=2), metric="kappa", mode="max",
                 num_samples=2, storage_path=str(tmp_path), verbose=0)


def test_tuner_api_runs_rounds(tmp_path):
    scheduler = RoundScheduler(rounds=2)
    tuner = tune.Tuner(
        pbt_style_trainable, param_space={"lr": tune.uniform(0.01, 0.5)},
        tune_config=tune.TuneConfig(search_alg=GammaSearcher(samples_per_round=3, seed=5),
                                    scheduler=scheduler, metric="kappa", mode="max",
                                    num_samples=-1, reuse_actors=True),
        run_config=tune.RunConfig(storage_path=str(tmp_path), name="tuner", verbose=0))
    results = tuner.fit()
    assert len(results) == 6 and not results.errors
    with open(os.path.join(results.experiment_path, "rounds.json")) as f:
        saved = json.load(f)
    assert len(saved["schedule"]) == 2 and all(r["closed"] for r in saved["rounds"])


def test_gamma_searcher_alone_with_asha_over_whole_trials(tmp_path):
    searcher = GammaSearcher(seed=6)
    analysis = tune.run(pbt_style_trainable, config={"lr": tune.loguniform(1e-3, 0.5)},
                        search_alg=searcher, scheduler=ASHAScheduler(max_t=3, grace_period=1),
                        metric="kappa", mode="max", num_samples=6, stop={"training_iteration": 3},
                        max_concurrent_trials=2, storage_path=str(tmp_path), verbose=0)
    assert len(analysis.trials) == 6 and all(t.status == "TERMINATED" for t in analysis.trials)
    lrs = [t.config["lr"] for t in analysis.trials]
    assert len(set(lrs)) == 6 and all(1e-3 <= lr <= 0.5 for lr in lrs)
    assert searcher.book is None  # no rounds without RoundScheduler
    assert searcher._proposer.n_observations == 6

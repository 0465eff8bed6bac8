"""The benchmark's task and its Ray Tune contenders (peers and round searches), one run each.

Used by ``experiments/benchmark_peers.py``; each ``run_*`` function trains one contender with
one search/initialisation seed and returns an :class:`Outcome`: the final model's TEST accuracy,
its validation accuracy and κ, the epoch-evaluations used (one model trained one epoch and
scored on the validation split) and the wall time.

Contenders here, all on Ray Tune (``tune.run``, the caller's Ray instance):

* **rounds** (``gamma``, ``gaussian``, ``random``, ``grid100``): tune_gamma's ``RoundScheduler``
  with the named searcher; final model = the last round's winner.
* **pbt** / **pb2**: Ray's ``PopulationBasedTraining`` / ``PB2`` with a population of
  ``population`` trials, perturbation every epoch (``perturbation_interval=1`` on
  ``training_iteration``), otherwise Ray's defaults (quantile 0.25; PBT resample probability
  0.25 and factors 1.2/0.8). PBT's multiplicative perturbation is clipped back into the
  learning-rate range (Ray does not clip); PB2 searches the same range on a linear scale
  (PB2's bounds are linear). Final model = the best trial's last checkpoint by validation κ.
* **asha**: ``ASHAScheduler`` (Ray's defaults: grace period 1, reduction factor 4, max_t =
  epochs) over whole constant-rate runs with random log-uniform rates, stopped once it has used
  its evaluation budget (a Tune ``Stopper``; the trials running then are cut short). How many
  evaluations ASHA spends per trial depends on the task: while κ sits on its floor of 0
  (accuracy ≤ loss) every trial ties at a rung and none is stopped there, so a fixed
  ``num_samples`` would not give a fixed budget.
* **optuna_tpe**: ``OptunaSearch`` with Optuna's ``TPESampler`` over whole constant-rate runs
  (``TPE_STARTUP`` random trials first: Optuna's default 10 would leave 2 TPE proposals of 12).
* **fixed** (``fixed_0.01``, ``fixed_0.1``): one run at that constant rate: the no-tuning floor.

Final model of whole-run contenders (pbt, pb2, asha, optuna_tpe, fixed): among trials that
trained all ``epochs`` epochs (any trial if none did), the best by last validation κ, ties
broken by accuracy then loss (the round book's rule). Evaluations are counted exactly, by a
callback that counts every reported result.

Data: the split is fixed (``DATA_SEED`` = 0); the seed given to a run drives the weight
initialisation, the mini-batch order and the search (searcher seed, Python/NumPy RNGs that
Ray's PBT/PB2/random sampling draw from, Optuna's sampler seed).
"""

from __future__ import annotations

import math
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import numpy as np

from tune_gamma.run import DEFAULT_LR_MAX, DEFAULT_LR_MIN, DEFAULT_MOMENTUM, RunOptions
from tune_gamma.training.data import DatasetSplits, load_dataset
from tune_gamma.training.trainable import THESIS_WEIGHT_DECAY, TrainSpec

DATA_SEED = 0
METRIC, MODE = "kappa", "max"
NETWORKS: tuple[str, ...] = ("demo", "thesis")
TPE_STARTUP = 4
PBT_QUANTILE = 0.25


@dataclass(frozen=True)
class Task:
    """What every contender trains: data, network settings, learning-rate range, epochs.

    ``network="demo"`` is the demo's default network (``tune_gamma.run``: ``mlp6`` without
    dropout, batch 50, κ improved with λ = 0.5) and ``"thesis"`` the thesis's ``mlp6-thesis``
    (dropout 0.5) with weight decay 0.001. ``lr_min``, ``lr_max``, ``momentum`` and
    ``weight_decay`` left at None take the demo's defaults from ``tune_gamma.run`` (SGD, log-
    uniform lr in [DEFAULT_LR_MIN, DEFAULT_LR_MAX], DEFAULT_MOMENTUM, DEFAULT_WEIGHT_DECAY; the
    thesis network always has weight decay 0.001 unless given); the resolved values are stored,
    so a result file records exactly what ran.
    """

    data: str = "digits"
    setting: str = "500"
    network: str = "demo"
    epochs: int = 10
    lr_min: float | None = None
    lr_max: float | None = None
    momentum: float | None = None
    weight_decay: float | None = None
    batch_size: int = RunOptions.batch_size
    kappa_form: str = RunOptions.kappa
    lam: float = RunOptions.lam

    def __post_init__(self) -> None:
        if self.network not in NETWORKS:
            raise ValueError(f"unknown network {self.network!r}; choose from {NETWORKS}")
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")
        thesis = self.network == "thesis"
        defaults = {"lr_min": DEFAULT_LR_MIN, "lr_max": DEFAULT_LR_MAX,
                    "momentum": DEFAULT_MOMENTUM,
                    "weight_decay": THESIS_WEIGHT_DECAY if thesis else RunOptions.weight_decay}
        for key, value in defaults.items():
            if getattr(self, key) is None:
                object.__setattr__(self, key, float(value))
        if not 0 < self.lr_min < self.lr_max:
            raise ValueError(f"need 0 < lr_min < lr_max, got {self.lr_min}, {self.lr_max}")

    @property
    def model(self) -> str:
        return "mlp6-thesis" if self.network == "thesis" else RunOptions.model

    def spec(self, seed: int) -> TrainSpec:
        """The ``TrainSpec`` of one run; ``seed`` sets initial weights and batch order."""
        return TrainSpec(data=self.data, setting=self.setting, model=self.model, seed=seed,
                         batch_size=self.batch_size, momentum=self.momentum,
                         weight_decay=self.weight_decay, kappa_form=self.kappa_form,
                         lam=self.lam, max_epochs=self.epochs, device="cpu")

    def splits(self) -> DatasetSplits:
        """The data split (fixed: seed ``DATA_SEED``), loaded once per process."""
        return _splits(self.data, self.setting)

    def lr_domain(self) -> Any:
        from ray import tune

        return tune.loguniform(self.lr_min, self.lr_max)


@lru_cache(maxsize=4)
def _splits(data: str, setting: str) -> DatasetSplits:
    return load_dataset(data, setting=setting, seed=DATA_SEED)


@dataclass
class Outcome:
    """One contender run with one seed."""

    contender: str
    seed: int
    engine: str
    test_accuracy: float
    val_accuracy: float | None
    val_kappa: float | None
    evaluations: int
    wall_seconds: float
    schedule: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------- shared pieces


def rank_key(metrics: dict[str, Any]) -> tuple[float, float, float]:
    """Larger is better: (κ, accuracy, −loss), non-finite values last (the round book's rule)."""

    def finite(key: str, sign: float = 1.0) -> float:
        try:
            value = float(metrics.get(key, math.nan))
        except (TypeError, ValueError):
            return -math.inf
        return sign * value if math.isfinite(value) else -math.inf

    return finite(METRIC), finite("accuracy"), finite("loss", -1.0)


def test_accuracy(checkpoint: Any, spec: TrainSpec, splits: DatasetSplits) -> float:
    """Accuracy on the TEST split of the model in ``checkpoint`` (Checkpoint or directory)."""
    from tune_gamma.training.loop import evaluate, to_device
    from tune_gamma.training.trainable import load_checkpoint_model

    model, _ = load_checkpoint_model(checkpoint, spec, splits, "cpu")
    X, y = to_device(*splits.test, "cpu")
    return float(evaluate(model, X, y)["accuracy"])


def seed_global_rngs(seed: int) -> None:
    """Seed the RNGs Ray's PBT/PB2 and its random sampling draw from (``random``, NumPy)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)


def _result_counter() -> Any:
    """A Tune callback counting reported results: one result = one epoch-evaluation."""
    from ray.tune import Callback

    class ResultCounter(Callback):
        def __init__(self) -> None:
            self.count = 0

        def on_trial_result(self, iteration: int, trials: list[Any], trial: Any,
                            result: dict[str, Any], **info: Any) -> None:
            self.count += 1

    return ResultCounter()


def _trial_dirname(trial: Any) -> str:
    return str(trial.trial_id)


class _Scratch:
    """A temporary Ray storage directory, removed afterwards (checkpoints are not kept)."""

    def __init__(self, root: str | None) -> None:
        self.root = root

    def __enter__(self) -> str:
        if self.root:
            os.makedirs(self.root, exist_ok=True)
        self.path = tempfile.mkdtemp(prefix="bench-", dir=self.root)
        return self.path

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _tune_run(trainable: Any, storage: str, **kwargs: Any) -> Any:
    from ray import tune

    return tune.run(trainable, metric=METRIC, mode=MODE, reuse_actors=True,
                    storage_path=storage, name="run", verbose=0, raise_on_failed_trial=False,
                    trial_dirname_creator=_trial_dirname, **kwargs)


def _best_whole_run(trials: Sequence[Any], epochs: int) -> Any:
    """The best trial by last validation κ among those that trained all ``epochs`` epochs."""
    reported = [t for t in trials if t.last_result and t.checkpoint is not None
                and METRIC in t.last_result]
    if not reported:
        raise RuntimeError("no trial reported a result with a checkpoint")
    finished = [t for t in reported if int(t.last_result.get("epochs_trained", 0)) >= epochs]
    return max(finished or reported, key=lambda t: rank_key(t.last_result))


def _whole_run_outcome(name: str, seed: int, task: Task, analysis: Any, counter: Any,
                       started: float, **extra: Any) -> Outcome:
    best = _best_whole_run(analysis.trials, task.epochs)
    accuracy = test_accuracy(best.checkpoint, task.spec(seed), task.splits())
    last = best.last_result
    return Outcome(name, seed, "ray", accuracy, _maybe(last.get("accuracy")),
                   _maybe(last.get(METRIC)), counter.count, time.perf_counter() - started,
                   extra={"trials": sum(bool(t.last_result) for t in analysis.trials),
                          "best_lr": _maybe(last.get("lr")), **extra})


def _maybe(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# ------------------------------------------------------------------------- round contenders


def run_rounds_ray(name: str, task: Task, seed: int, *, samples_per_round: int, workers: int,
                   scratch: str | None = None) -> Outcome:
    """One round search on Ray (``RoundScheduler`` + tune_gamma's ``name`` searcher)."""
    from tune_gamma.run import evaluate_final, make_searcher
    from tune_gamma.training.trainable import make_trainable
    from tune_gamma.tune.scheduler import RoundScheduler

    started = time.perf_counter()
    spec, splits = task.spec(seed), task.splits()
    searcher_name = "grid" if name.startswith("grid") else name
    scheduler = RoundScheduler(rounds=task.epochs, tensorboard=False)
    searcher = make_searcher(searcher_name, samples_per_round=samples_per_round, seed=seed)
    with _Scratch(scratch) as storage:
        analysis = _tune_run(
            make_trainable(spec, splits), storage, config={"lr": task.lr_domain()},
            search_alg=searcher, scheduler=scheduler, num_samples=-1,
            max_concurrent_trials=workers)
        book = scheduler.book.to_dict()
        trials = {t.trial_id: t for t in analysis.trials}
        test = evaluate_final(book, trials, spec, splits)
    return _round_outcome(name, seed, "ray", book, test["accuracy"], len(analysis.trials),
                          time.perf_counter() - started)


def _round_outcome(name: str, seed: int, engine: str, book: dict[str, Any], accuracy: float,
                   evaluations: int, wall: float) -> Outcome:
    """Outcome of a round search from its round book (``RoundBook.to_dict()``)."""
    winners = [r for r in book["rounds"] if r.get("closed") and r.get("winner")]
    final = winners[-1]["winner_metrics"] if winners else {}
    schedule = [float(r["winner_config"]["lr"]) for r in winners]
    flat = sum(bool(r.get("flat")) for r in book["rounds"])
    return Outcome(name, seed, engine, float(accuracy), _maybe(final.get("accuracy")),
                   _maybe(final.get(METRIC)), evaluations, wall, schedule,
                   extra={"flat_rounds": flat})


# ------------------------------------------------------------------------- peers on Ray


def _clip_lr(task: Task) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def explore(config: dict[str, Any]) -> dict[str, Any]:
        config["lr"] = float(min(max(config["lr"], task.lr_min), task.lr_max))
        return config

    return explore


def run_population(name: str, task: Task, seed: int, *, population: int, workers: int,
                   scratch: str | None = None) -> Outcome:
    """PBT (``name="pbt"``) or PB2 (``"pb2"``): ``population`` trials of ``task.epochs`` epochs,
    perturbed every epoch."""
    from ray.tune.schedulers import PopulationBasedTraining
    from ray.tune.schedulers.pb2 import PB2

    from tune_gamma.training.trainable import make_trainable

    started = time.perf_counter()
    seed_global_rngs(seed)
    if name == "pbt":
        scheduler: Any = PopulationBasedTraining(
            time_attr="training_iteration", perturbation_interval=1,
            hyperparam_mutations={"lr": task.lr_domain()}, quantile_fraction=PBT_QUANTILE,
            custom_explore_fn=_clip_lr(task))
    elif name == "pb2":
        scheduler = PB2(time_attr="training_iteration", perturbation_interval=1,
                        hyperparam_bounds={"lr": [task.lr_min, task.lr_max]},
                        quantile_fraction=PBT_QUANTILE)
    else:
        raise ValueError(f"unknown population contender {name!r}")
    counter = _result_counter()
    with _Scratch(scratch) as storage:
        analysis = _tune_run(
            make_trainable(task.spec(seed), task.splits()), storage,
            config={"lr": task.lr_domain()}, scheduler=scheduler, num_samples=population,
            stop={"training_iteration": task.epochs}, max_concurrent_trials=workers,
            callbacks=[counter])
        return _whole_run_outcome(name, seed, task, analysis, counter, started)


def _budget_stopper(limit: int, counter: Any, epochs: int) -> Any:
    """A Tune ``Stopper``: a trial stops after ``epochs`` epochs, the whole experiment once
    ``counter`` has seen ``limit`` results."""
    from ray.tune import Stopper

    class BudgetStopper(Stopper):
        def __call__(self, trial_id: str, result: dict[str, Any]) -> bool:
            return int(result.get("training_iteration", 0)) >= epochs

        def stop_all(self) -> bool:
            return counter.count >= limit

    return BudgetStopper()


def run_asha(task: Task, seed: int, *, num_samples: int, workers: int,
             evaluations: int | None = None, scratch: str | None = None) -> Outcome:
    """ASHA (Ray's defaults, max_t = epochs) over at most ``num_samples`` random constant-rate
    runs, stopped after ``evaluations`` epoch-evaluations (None: no cap)."""
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search import BasicVariantGenerator

    from tune_gamma.training.trainable import make_trainable

    started = time.perf_counter()
    seed_global_rngs(seed)
    counter = _result_counter()
    with _Scratch(scratch) as storage:
        analysis = _tune_run(
            make_trainable(task.spec(seed), task.splits()), storage,
            config={"lr": task.lr_domain()},
            search_alg=BasicVariantGenerator(random_state=seed),
            scheduler=ASHAScheduler(time_attr="training_iteration", max_t=task.epochs,
                                    grace_period=1),
            num_samples=num_samples,
            stop=(_budget_stopper(evaluations, counter, task.epochs) if evaluations
                  else {"training_iteration": task.epochs}),
            max_concurrent_trials=workers, callbacks=[counter])
        finished = sum(int(t.last_result.get("epochs_trained", 0)) >= task.epochs
                       for t in analysis.trials if t.last_result)
        return _whole_run_outcome("asha", seed, task, analysis, counter, started,
                                  finished_trials=finished)


def run_tpe(task: Task, seed: int, *, num_samples: int, workers: int,
            scratch: str | None = None) -> Outcome:
    """Optuna TPE (``OptunaSearch``) over ``num_samples`` whole constant-rate runs."""
    from optuna.samplers import TPESampler
    from ray.tune.search.optuna import OptunaSearch

    from tune_gamma.training.trainable import make_trainable

    started = time.perf_counter()
    seed_global_rngs(seed)
    sampler = TPESampler(seed=seed, n_startup_trials=min(TPE_STARTUP, num_samples))
    counter = _result_counter()
    with _Scratch(scratch) as storage:
        analysis = _tune_run(
            make_trainable(task.spec(seed), task.splits()), storage,
            config={"lr": task.lr_domain()}, search_alg=OptunaSearch(sampler=sampler),
            num_samples=num_samples, stop={"training_iteration": task.epochs},
            max_concurrent_trials=workers, callbacks=[counter])
        return _whole_run_outcome("optuna_tpe", seed, task, analysis, counter, started)


def run_fixed(name: str, lr: float, task: Task, seed: int, *,
              scratch: str | None = None) -> Outcome:
    """One run of ``task.epochs`` epochs at the constant learning rate ``lr``."""
    from tune_gamma.training.trainable import make_trainable

    started = time.perf_counter()
    counter = _result_counter()
    with _Scratch(scratch) as storage:
        analysis = _tune_run(
            make_trainable(task.spec(seed), task.splits()), storage, config={"lr": lr},
            num_samples=1, stop={"training_iteration": task.epochs}, callbacks=[counter])
        return _whole_run_outcome(name, seed, task, analysis, counter, started)


def with_epochs(task: Task, epochs: int) -> Task:
    """``task`` with another number of epochs."""
    return replace(task, epochs=epochs)



def run_rounds_local(name: str, task: Task, seed: int, *, samples_per_round: int,
                     searcher: Any = None) -> Outcome:
    """One round search in this process without Ray (``tune_gamma.local``), same algorithm.

    ``searcher``: a ready tune_gamma searcher to use instead of ``name``'s default one (for
    ablations); its own seed then applies to the proposals.
    """
    from tune_gamma.local import run_rounds_in_process
    from tune_gamma.run import make_searcher
    from tune_gamma.training.loop import evaluate, to_device

    started = time.perf_counter()
    spec, splits = task.spec(seed), task.splits()
    if searcher is None:
        searcher_name = "grid" if name.startswith("grid") else name
        searcher = make_searcher(searcher_name, samples_per_round=samples_per_round, seed=seed)
    result = run_rounds_in_process(spec, searcher, {"lr": task.lr_domain()}, task.epochs,
                                   samples_per_round, splits=splits, metric=METRIC, mode=MODE)
    X, y = to_device(*splits.test, "cpu")
    accuracy = float(evaluate(result.final_model(spec, splits), X, y)["accuracy"])
    return _round_outcome(name, seed, "local", result.book.to_dict(), accuracy,
                          len(result.trials), time.perf_counter() - started)

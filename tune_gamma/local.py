"""The per-epoch round search as a plain, sequential PyTorch loop in one process, without Ray.

``run_rounds_in_process(spec, GammaSearcher(samples_per_round=N, seed=S), {"lr": ...}, rounds)``
runs what ``tune.run(make_trainable(spec), search_alg=GammaSearcher(...),
scheduler=RoundScheduler(rounds=R), max_concurrent_trials=1, ...)`` runs, with the same pieces:

* each round gets a fresh proposer from the searcher itself (``RoundSearcher.new_proposer``:
  ``make_proposer`` with the seed ``round_seed(searcher.seed, round)``), asked one point at a
  time with no pending points, as the Ray path asks it with one trial at a time;
* each trial starts from the round's start weights (``start_trial`` of the trainable, the same
  code, with the winner's ``checkpoint_payload`` kept in memory instead of a ``model.pt``),
  trains one seeded epoch and validates (``train_epoch``), with one torch thread on CPU and
  malloc's thresholds fixed (``retain_freed_memory``) as a Ray trial on CPU has them;
* the proposer learns ``searcher.signal(metrics)``, and the round closes with the searcher's
  ``RoundBook`` ranking (metric, then accuracy, then loss).

So with one worker the two paths make the same proposals and pick the same winners; it is the
lower bound that ``experiments/benchmark_overhead.py`` measures Ray Tune against. No Ray
runtime starts and nothing is written to disk. Round records name checkpoints
``memory://<trial_id>``.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from tune_gamma.rounds import RoundBook, RoundRecord
from tune_gamma.training.data import DatasetSplits, load_dataset
from tune_gamma.training.memory import retain_freed_memory
from tune_gamma.training.models import build_model
from tune_gamma.training.trainable import (
    TrainSpec,
    device_split,
    resolve_device,
    start_trial,
    state_payload,
    train_epoch,
)
from tune_gamma.tune.domains import to_config
from tune_gamma.tune.round_searcher import RoundSearcher

MEMORY_PREFIX = "memory://"


@dataclass
class LocalTrial:
    """Timing of one trial: proposing, restoring the start weights, the epoch, keeping weights."""

    trial_id: str
    round: int
    config: dict[str, Any]
    metrics: dict[str, float] | None
    ask_s: float
    start_s: float
    epoch_s: float
    save_s: float
    tell_s: float
    error: str | None = None


@dataclass
class LocalRunResult:
    """What ``run_rounds_in_process`` returns.

    ``schedule``: the winner's config per round (None where every trial diverged).
    ``rounds``: ``RoundBook.to_dict()["rounds"]``, as ``RoundScheduler.rounds`` gives them.
    ``final_payload``: the last winner's ``checkpoint_payload`` (None if no round had one).
    ``timing``: seconds: ``total_s`` (the whole call), ``ask_s``, ``tell_s`` (proposer),
    ``start_s`` (model build and weight restore), ``epoch_s`` (train + validate),
    ``save_s`` (copying weights), ``other_s`` (the rest), summed over trials.
    """

    schedule: list[dict[str, Any] | None]
    rounds: list[dict[str, Any]]
    book: RoundBook
    trials: list[LocalTrial]
    final_payload: dict[str, Any] | None
    timing: dict[str, float] = field(default_factory=dict)

    def final_model(self, spec: TrainSpec, splits: DatasetSplits) -> nn.Module:
        """The last winner's model (the seed-built initial model if no round had a winner)."""
        torch.manual_seed(spec.seed)
        model = build_model(spec.model, splits.input_shape, splits.num_classes, spec.dropout)
        if self.final_payload is not None:
            model.load_state_dict(self.final_payload["model"])
        return model.eval()


def run_rounds_in_process(
    spec: TrainSpec,
    searcher: RoundSearcher,
    space_config: Mapping[str, Any],
    rounds: int,
    samples_per_round: int | None = None,
    *,
    splits: DatasetSplits | None = None,
    metric: str = "kappa",
    mode: str = "max",
    threads: int | None = 1,
    on_trial: Callable[[LocalTrial], None] | None = None,
) -> LocalRunResult:
    """Run ``rounds`` rounds of ``samples_per_round`` one-epoch trials, sequentially, in memory.

    Args:
        spec: what to train (the same ``TrainSpec`` the Ray trainable gets).
        searcher: a fresh tune_gamma searcher (``GammaSearcher(seed=...)``, ...); it supplies
            the proposers, the signal and the round book, and is left holding the book (its
            ``samples_per_round`` set to the one used).
        space_config: the Ray param space, as ``tune.run(config=...)`` gets it.
        rounds: number of rounds (epochs).
        samples_per_round: trials per round; default ``searcher.samples_per_round``.
        splits: the data set (loaded from ``spec`` when None).
        metric, mode: what ranks the trials (as ``tune.run(metric=, mode=)``).
        threads: torch CPU threads during the run (1, as a Ray trial on CPU); None keeps them.
        on_trial: called after every trial with its record.

    Raises:
        ValueError: bad rounds/samples, a searcher with ``points_to_evaluate`` or one that
            has run rounds already.
        RoundFailedError: every trial of a round failed.
    """
    started = time.perf_counter()
    samples = searcher.samples_per_round if samples_per_round is None else samples_per_round
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"rounds must be an integer >= 1, got {rounds!r}")
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples_per_round must be an integer >= 1, got {samples!r}")
    if searcher._points_to_evaluate:
        raise ValueError("points_to_evaluate is not supported by the in-process loop")
    if searcher.book is not None:
        raise ValueError("the searcher has run rounds already; give a fresh one")
    searcher.samples_per_round = samples
    searcher.set_search_properties(metric, mode, dict(space_config))
    book = searcher.enable_rounds(rounds, metric, mode)
    if splits is None:
        splits = load_dataset(spec.data, spec.data_dir, spec.setting, spec.seed)
    device = resolve_device(spec.device)
    saved_threads = torch.get_num_threads()
    if threads is not None and device.type == "cpu":
        torch.set_num_threads(threads)
    if device.type == "cpu":
        retain_freed_memory()  # as every Ray trial on CPU does
    try:
        run = _Rounds(spec, searcher, book, splits, device, on_trial)
        for _ in range(rounds):
            record = book.current if not book.current.closed else book.open_round()
            run.run_round(record)
    finally:
        torch.set_num_threads(saved_threads)
    total = time.perf_counter() - started
    timing = {key: float(sum(getattr(t, key) for t in run.trials))
              for key in ("ask_s", "start_s", "epoch_s", "save_s", "tell_s")}
    timing["total_s"] = total
    timing["other_s"] = total - sum(timing[k] for k in ("ask_s", "start_s", "epoch_s",
                                                        "save_s", "tell_s"))
    last = next((r for r in reversed(book.closed_rounds) if r.winner), None)
    final = run.payloads.get(book.trials[last.winner].checkpoint) if last else None
    return LocalRunResult(schedule=book.schedule, rounds=book.to_dict()["rounds"], book=book,
                          trials=run.trials, final_payload=final, timing=timing)


class _Rounds:
    """The loop's state: the kept weights (by ``memory://`` name) and the trial records."""

    def __init__(self, spec: TrainSpec, searcher: RoundSearcher, book: RoundBook,
                 splits: DatasetSplits, device: torch.device,
                 on_trial: Callable[[LocalTrial], None] | None) -> None:
        self.spec, self.searcher, self.book = spec, searcher, book
        self.splits, self.device, self.on_trial = splits, device, on_trial
        self.train = device_split(splits.train, device)
        self.val = device_split(splits.val, device)
        self.generator = torch.Generator()
        self.payloads: dict[str, dict[str, Any]] = {}
        self.trials: list[LocalTrial] = []

    def run_round(self, record: RoundRecord) -> None:
        proposer = self.searcher.new_proposer(record.index)
        start = self.payloads.get(record.start_checkpoint) if record.start_checkpoint else None
        for i in range(self.book.samples_per_round):
            t0 = time.perf_counter()
            point = np.asarray(proposer.ask(pending=None), dtype=float)
            config = to_config(self.searcher.space, point, self.searcher.constants)
            trial_id = f"r{record.index:03d}t{i:03d}"
            self.book.add_trial(trial_id, config)
            trial = self._train(trial_id, record.index, config, start, time.perf_counter() - t0)
            t1 = time.perf_counter()
            if trial.metrics is None:
                self.book.record_error(trial_id)
                proposer.tell(point, math.nan)
            else:
                self.book.record_result(trial_id, trial.metrics, MEMORY_PREFIX + trial_id)
                proposer.tell(point, self.searcher.signal(trial.metrics))
            trial.tell_s = time.perf_counter() - t1
            self.trials.append(trial)
            if self.on_trial is not None:
                self.on_trial(trial)
        winner = self.book.close_round(record)
        keep = {record.start_checkpoint, winner.checkpoint if winner else None}
        self.payloads = {k: v for k, v in self.payloads.items() if k in keep}

    def _train(self, trial_id: str, round_index: int, config: dict[str, Any],
               start: dict[str, Any] | None, ask_s: float) -> LocalTrial:
        """One trial as the Ray trainable runs it; an exception fails the trial, not the run."""
        trial = LocalTrial(trial_id, round_index, config, None, ask_s, 0.0, 0.0, 0.0, 0.0)
        try:
            t0 = time.perf_counter()
            # A deep copy: the optimizer may alias the kept tensors and would change them.
            payload = copy.deepcopy(start) if start is not None else None
            state = start_trial(self.spec, config, self.splits.input_shape,
                                self.splits.num_classes, self.device, payload)
            state.lineage.append(trial_id)
            t1 = time.perf_counter()
            metrics = train_epoch(self.spec, state, self.train, self.val, self.generator)
            t2 = time.perf_counter()
            self.payloads[MEMORY_PREFIX + trial_id] = copy.deepcopy(state_payload(state, config))
            t3 = time.perf_counter()
        except Exception as exc:  # as in Tune: the trial fails, the round goes on
            trial.error = f"{type(exc).__name__}: {exc}"
            return trial
        trial.metrics = metrics
        trial.start_s, trial.epoch_s, trial.save_s = t1 - t0, t2 - t1, t3 - t2
        return trial

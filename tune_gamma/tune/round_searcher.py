"""The shared base of tune_gamma's Ray Tune searchers.

Two ways to run:

* **With** :class:`~tune_gamma.tune.scheduler.RoundScheduler`: trials come in rounds of
  ``samples_per_round``; each round gets a fresh proposer (its own Bayesian optimisation, grid or
  random points) that sees only that round's results, because every round starts from different
  weights. The scheduler binds itself to the searcher when the first trial is added and owns the
  closing of rounds; the searcher keeps the :class:`~tune_gamma.rounds.RoundBook`, so the book is
  saved and restored with the searcher's state when Tune checkpoints the experiment.
* **Without** it: an ordinary searcher over whole trials (FIFO, ASHA, ...), one proposer for the
  whole experiment, like Ray's own BayesOpt or Optuna searchers.

Running trials are passed to the proposer as pending points, so k concurrent trials get k
distinct proposals. NaN/inf results reach the proposer as NaN, which never becomes its incumbent.
"""

from __future__ import annotations

import math
import pickle
from abc import ABCMeta, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from ray.tune.search import UNDEFINED_METRIC_MODE, UNDEFINED_SEARCH_SPACE, Searcher

from tune_gamma.bo.space import SearchSpace
from tune_gamma.proposers import Proposer
from tune_gamma.rounds import RoundBook
from tune_gamma.tune.domains import convert_search_space, from_config, to_config

DEFAULT_SAMPLES_PER_ROUND = 12  # the thesis: 2 initial points + 10 BO iterations per epoch


def round_seed(seed: int, round_index: int) -> int:
    """The seed of round ``round_index``'s proposer, derived from the searcher's ``seed``."""
    return int(np.random.SeedSequence([seed, round_index]).generate_state(1)[0])


class RoundSearcher(Searcher, metaclass=ABCMeta):
    """Base class: proposal bookkeeping, rounds, concurrency and save/restore.

    Subclasses implement :meth:`make_proposer`.

    Args:
        space: a Ray param space (``{"lr": tune.loguniform(1e-4, 0.5)}``) or a
            :class:`SearchSpace`; by default taken from ``tune.run(config=...)``.
        metric, mode: by default taken from ``tune.run``/``TuneConfig``.
        samples_per_round: trials per round under ``RoundScheduler``.
        points_to_evaluate: configs to try first, before any proposal.
        max_concurrent: at most this many trials running at once (None: no limit of its own;
            ``max_concurrent_trials`` in Tune sets it too).
        seed: makes the whole search reproducible; None draws one and keeps it in the state.
        floor_signal: when the metric sits on kappa's floor of 0 (accuracy <= loss), give the
            proposer ``accuracy - loss`` (<= 0) instead, so a round of flat zeros still has a
            direction. The ranking of trials is unchanged (see ``RoundBook``).
        accuracy_key, loss_key: result keys of validation accuracy and loss.
    """

    def __init__(self, space: Mapping[str, Any] | SearchSpace | None = None,
                 metric: str | None = None, mode: str | None = None, *,
                 samples_per_round: int = DEFAULT_SAMPLES_PER_ROUND,
                 points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
                 max_concurrent: int | None = None, seed: int | None = None,
                 floor_signal: bool = True, accuracy_key: str = "accuracy",
                 loss_key: str = "loss") -> None:
        if mode is not None and mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
        if not isinstance(samples_per_round, int) or samples_per_round < 1:
            raise ValueError(f"samples_per_round must be an integer >= 1, got "
                             f"{samples_per_round!r}")
        if max_concurrent is not None and (not isinstance(max_concurrent, int)
                                           or max_concurrent < 1):
            raise ValueError(f"max_concurrent must be None or an integer >= 1, got "
                             f"{max_concurrent!r}")
        super().__init__(metric=metric, mode=mode)
        self.samples_per_round = samples_per_round
        self.max_concurrent = max_concurrent
        self.seed = int(seed) if seed is not None else int(
            np.random.SeedSequence().generate_state(1)[0])
        self.floor_signal = floor_signal
        self.accuracy_key = accuracy_key
        self.loss_key = loss_key
        self.space: SearchSpace | None = None
        self.constants: dict[str, Any] = {}
        self._points_to_evaluate = [dict(p) for p in points_to_evaluate or []]
        self._live: dict[str, np.ndarray] = {}
        self._proposer: Proposer | None = None
        self._proposer_round: int | None = None
        self.book: RoundBook | None = None
        if space is not None:
            self._set_space(space)

    # -- what subclasses provide ------------------------------------------------------------
    @abstractmethod
    def make_proposer(self, space: SearchSpace, seed: int,
                      initial_points: list[np.ndarray]) -> Proposer:
        """A fresh proposal strategy for one round (or for the whole search)."""

    # -- setup ----------------------------------------------------------------------------
    def _set_space(self, space: Mapping[str, Any] | SearchSpace) -> None:
        if isinstance(space, SearchSpace):
            self.space, self.constants = space, {}
        else:
            self.space, self.constants = convert_search_space(dict(space))
        for point in self._points_to_evaluate:
            x = from_config(self.space, point)
            if not self.space.contains(x):
                bounds = [(d.name, d.low, d.high) for d in self.space.dimensions]
                raise ValueError(f"points_to_evaluate entry {point!r} lies outside the search "
                                 f"space {bounds}")

    def set_search_properties(self, metric: str | None, mode: str | None,
                              config: dict[str, Any], **spec: Any) -> bool:
        if metric and not self._metric:
            self._metric = metric
        if mode and not self._mode:
            if mode not in ("max", "min"):
                raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
            self._mode = mode
        if self.space is not None:
            return False
        self._set_space(config)
        return True

    def set_max_concurrency(self, max_concurrent: int) -> bool:
        self.max_concurrent = max_concurrent
        return True

    def enable_rounds(self, rounds: int, metric: str, mode: str) -> RoundBook:
        """Called by ``RoundScheduler`` when it sees the first trial: from now on, work in rounds.

        Trials proposed before this call belong to round 0. Idempotent on a resumed searcher.
        """
        if self._metric and metric and self._metric != metric:
            raise ValueError(f"RoundScheduler ranks by {metric!r} but the searcher optimises "
                             f"{self._metric!r}; give both the same metric")
        if self._mode and mode and self._mode != mode:
            raise ValueError(f"RoundScheduler mode {mode!r} differs from the searcher's "
                             f"{self._mode!r}")
        if self.book is None:
            self.book = RoundBook(self.samples_per_round, rounds, self._metric or metric,
                                  self._mode or mode, self.accuracy_key, self.loss_key)
            self.book.open_round()
            self._proposer_round = 0
            for trial_id, point in self._live.items():
                self.book.add_trial(trial_id, to_config(self.space, point, self.constants))
        else:
            self.book.rounds_total = rounds
        return self.book

    # -- proposing ------------------------------------------------------------------------
    def new_proposer(self, round_index: int) -> Proposer:
        """A fresh proposer for round ``round_index`` (0 without rounds), as :meth:`suggest`
        makes it: ``make_proposer`` with the seed ``round_seed(self.seed, round_index)``."""
        if self.space is None:
            raise RuntimeError(UNDEFINED_SEARCH_SPACE.format(cls=type(self).__name__,
                                                             space="space"))
        return self.make_proposer(self.space, round_seed(self.seed, round_index), [])

    def _proposer_for(self, round_index: int) -> Proposer:
        if self._proposer is None or self._proposer_round != round_index:
            self._proposer = self.new_proposer(round_index)
            self._proposer_round = round_index
        return self._proposer

    def suggest(self, trial_id: str) -> dict[str, Any] | str | None:
        if self.space is None:
            raise RuntimeError(UNDEFINED_SEARCH_SPACE.format(cls=type(self).__name__,
                                                             space="space"))
        if not self._metric or not self._mode:
            raise RuntimeError(UNDEFINED_METRIC_MODE.format(cls=type(self).__name__,
                                                            metric=self._metric,
                                                            mode=self._mode))
        round_index = 0
        if self.book is not None:
            if self.book.finished:
                return Searcher.FINISHED
            current = self.book.current
            if current.closed:
                current = self.book.open_round()
            elif self.book.is_full(current):
                if not self._live:
                    raise RuntimeError(
                        f"round {current.index} has all its trials finished but was never "
                        "closed; RoundScheduler closes rounds: pass it as the scheduler")
                return None  # wait for the round to close
            round_index = current.index
        if self.max_concurrent is not None and len(self._live) >= self.max_concurrent:
            return None
        proposer = self._proposer_for(round_index)
        if self._points_to_evaluate:
            point = from_config(self.space, self._points_to_evaluate.pop(0))
        else:
            pending = np.array(list(self._live.values())) if self._live else None
            point = np.asarray(proposer.ask(pending=pending), dtype=float)
        self._live[trial_id] = point
        config = to_config(self.space, point, self.constants)
        if self.book is not None:
            self.book.add_trial(trial_id, config)
        return config

    # -- observing ------------------------------------------------------------------------
    def signal(self, result: Mapping[str, Any] | None) -> float:
        """The value the proposer learns from: the metric, NaN when it or the loss diverged."""
        if not result or self._metric not in result:
            return math.nan
        try:
            value = float(result[self._metric])
        except (TypeError, ValueError):
            return math.nan
        loss = result.get(self.loss_key)
        if not math.isfinite(value) or (loss is not None and not math.isfinite(float(loss))):
            return math.nan
        accuracy = result.get(self.accuracy_key)
        if (self.floor_signal and self._mode == "max" and value == 0.0
                and accuracy is not None and loss is not None
                and float(accuracy) <= float(loss)):
            return float(accuracy) - float(loss)
        return value

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None = None,
                          error: bool = False) -> None:
        point = self._live.pop(trial_id, None)
        if point is None or self._proposer is None:
            return
        self._proposer.tell(point, math.nan if error else self.signal(result))

    def add_evaluated_point(self, parameters: dict[str, Any], value: float,
                            error: bool = False, pruned: bool = False,
                            intermediate_values: list[float] | None = None) -> None:
        """Tell the current proposer about a point evaluated outside this search."""
        if self.space is None:
            raise RuntimeError(UNDEFINED_SEARCH_SPACE.format(cls=type(self).__name__,
                                                             space="space"))
        round_index = self.book.current.index if self.book is not None else 0
        point = from_config(self.space, parameters)
        self._proposer_for(round_index).tell(point, math.nan if error else float(value))

    # -- state ----------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def set_state(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "wb") as f:
            pickle.dump(self.get_state(), f)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as f:
            self.set_state(pickle.load(f))

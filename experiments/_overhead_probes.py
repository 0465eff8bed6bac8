"""Instruments of ``experiments/benchmark_overhead.py``: timing subclasses of tune_gamma's
searcher and scheduler and of Tune's loggers, a count of Tune's actor events, a timeline
callback, and the two-process ceiling of the machine (plain processes, no Ray).
"""

from __future__ import annotations

import logging
import time
from typing import Any, ClassVar

from ray import tune
from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback, TBXLoggerCallback

from tune_gamma.tune.scheduler import RoundScheduler
from tune_gamma.tune.searchers import GammaSearcher


class TimedGammaSearcher(GammaSearcher):
    """``GammaSearcher`` that times its ``suggest`` and ``on_trial_complete`` calls."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.suggest_s: list[float] = []  # calls that proposed a config
        self.idle_suggest_s: list[float] = []  # calls that returned None / FINISHED
        self.complete_s: list[float] = []

    def suggest(self, trial_id: str) -> dict[str, Any] | str | None:
        t0 = time.perf_counter()
        out = super().suggest(trial_id)
        (self.suggest_s if isinstance(out, dict) else self.idle_suggest_s).append(
            time.perf_counter() - t0)
        return out

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None = None,
                          error: bool = False) -> None:
        t0 = time.perf_counter()
        super().on_trial_complete(trial_id, result, error)
        self.complete_s.append(time.perf_counter() - t0)


class TimedRoundScheduler(RoundScheduler):
    """``RoundScheduler`` that times its Tune hooks and, apart, the forced snapshots.

    ``plain_actors=True`` turns off its actor handling (keeping idle actors across a round's
    end, choosing trials that wait for no actor of their own): Tune's own, for comparison.
    """

    def __init__(self, *args: Any, plain_actors: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hook_s = 0.0
        self.snapshot_s: list[float] = []
        self.plain_actors = plain_actors

    def _keep_actor(self, *args: Any) -> None:
        if not self.plain_actors:
            super()._keep_actor(*args)

    def _trials_with_actors(self) -> Any:
        return {} if self.plain_actors else super()._trials_with_actors()

    def _timed(self, method: Any, *args: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return method(*args)
        finally:
            self.hook_s += time.perf_counter() - t0

    def on_trial_add(self, *args: Any) -> None:
        self._timed(super().on_trial_add, *args)

    def on_trial_result(self, *args: Any) -> str:
        return self._timed(super().on_trial_result, *args)

    def on_trial_complete(self, *args: Any) -> None:
        self._timed(super().on_trial_complete, *args)

    def on_trial_error(self, *args: Any) -> None:
        self._timed(super().on_trial_error, *args)

    def choose_trial_to_run(self, *args: Any) -> Any:
        return self._timed(super().choose_trial_to_run, *args)

    def _snapshot(self) -> None:
        t0 = time.perf_counter()
        super()._snapshot()
        self.snapshot_s.append(time.perf_counter() - t0)


class ActorEvents(logging.Handler):
    """Counts Tune's own debug messages about actors: ``started`` (a new actor process took a
    trial), ``reused``, ``cached``, ``stopped``, and ``requested`` (a new actor asked for,
    often withdrawn before it starts when a cached one frees up first)."""

    PATTERNS: ClassVar[dict[str, str]] = {
        "started": "Actor STARTED for trial", "reused": "Actor REUSED for trial",
        "requested": "Scheduled new ACTOR", "withdrawn": "Removing ORIGINAL ACTOR",
        "cached": "Caching actor of trial", "stopped": "Terminating actor for trial"}
    LOGGER = "ray.tune.execution.tune_controller"

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.counts = dict.fromkeys(self.PATTERNS, 0)

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        for key, pattern in self.PATTERNS.items():
            if message.startswith(pattern):
                self.counts[key] += 1

    def __enter__(self) -> ActorEvents:
        target = logging.getLogger(self.LOGGER)
        self._level = target.level
        target.addHandler(self)
        target.setLevel(logging.DEBUG)
        return self

    def __exit__(self, *exc: object) -> None:
        target = logging.getLogger(self.LOGGER)
        target.removeHandler(self)
        target.setLevel(self._level)


class _TimedLogger:
    """Mixin: the seconds a Tune logger callback spends in its hooks (``spent_s``)."""

    spent_s: float = 0.0

    def _timed(self, name: str, *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return getattr(super(), name)(*args, **kwargs)
        finally:
            self.spent_s += time.perf_counter() - t0

    def on_trial_start(self, *args: Any, **kwargs: Any) -> Any:
        return self._timed("on_trial_start", *args, **kwargs)

    def on_trial_restore(self, *args: Any, **kwargs: Any) -> Any:
        return self._timed("on_trial_restore", *args, **kwargs)

    def on_trial_result(self, *args: Any, **kwargs: Any) -> Any:
        return self._timed("on_trial_result", *args, **kwargs)

    def on_trial_complete(self, *args: Any, **kwargs: Any) -> Any:
        return self._timed("on_trial_complete", *args, **kwargs)

    def on_experiment_end(self, *args: Any, **kwargs: Any) -> Any:
        return self._timed("on_experiment_end", *args, **kwargs)


class TimedJsonLogger(_TimedLogger, JsonLoggerCallback):
    """Tune's JSON result logger, timed."""


class TimedCSVLogger(_TimedLogger, CSVLoggerCallback):
    """Tune's CSV result logger, timed."""


class TimedTBXLogger(_TimedLogger, TBXLoggerCallback):
    """Tune's per-trial TensorBoard logger, timed."""


def timed_loggers(tensorboard: bool = False) -> list[Any]:
    """The per-trial loggers ``tune_gamma.run`` gives Tune (JSON and CSV), timed, plus Tune's
    per-trial TensorBoard logger if ``tensorboard`` (to price the one a run leaves out)."""
    loggers: list[Any] = [TimedJsonLogger(), TimedCSVLogger()]
    return [*loggers, TimedTBXLogger()] if tensorboard else loggers


class Timeline(tune.Callback):
    """Driver-side timestamps of trial starts and ends, and every trial's result."""

    def __init__(self) -> None:
        self.starts: list[float] = []
        self.ends: list[float] = []
        self.results: list[dict[str, Any]] = []

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.starts.append(time.perf_counter())

    def on_trial_result(self, iteration: int, trials: list, trial: Any,
                        result: dict[str, Any], **info: Any) -> None:
        self.results.append(dict(result))

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.ends.append(time.perf_counter())


def epochs_worker(spec: Any, epochs: int, barrier: Any, out: Any) -> None:
    """A plain process (no Ray) that trains ``epochs`` epochs of ``spec`` on one thread, with
    malloc set as a trial sets it, once every worker is ready, and puts the seconds they took
    on ``out``."""
    import torch

    from tune_gamma.training.data import load_dataset
    from tune_gamma.training.memory import retain_freed_memory
    from tune_gamma.training.trainable import device_split, start_trial, train_epoch

    torch.set_num_threads(1)
    retain_freed_memory()
    splits = load_dataset(spec.data, spec.data_dir, spec.setting, spec.seed)
    cpu = torch.device("cpu")
    train, val = device_split(splits.train, cpu), device_split(splits.val, cpu)
    state = start_trial(spec, {"lr": 0.03}, splits.input_shape, splits.num_classes, cpu)
    generator = torch.Generator()
    train_epoch(spec, state, train, val, generator)  # first use, untimed
    barrier.wait()
    t0 = time.perf_counter()
    for _ in range(epochs):
        train_epoch(spec, state, train, val, generator)
    out.put(time.perf_counter() - t0)


def parallel_ceiling(spec: Any, epochs: int) -> dict[str, float]:
    """What two plain processes gain here over one: ``2 * epochs`` epochs in one process vs
    ``epochs`` in each of two at once (after their imports and a first epoch). The machine's
    own bound for any 2-worker speed-up, Ray or not."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    walls = {}
    for workers, each in ((1, 2 * epochs), (2, epochs)):
        barrier, out = context.Barrier(workers), context.Queue()
        procs = [context.Process(target=epochs_worker, args=(spec, each, barrier, out))
                 for _ in range(workers)]
        for p in procs:
            p.start()
        walls[workers] = max(out.get() for _ in procs)
        for p in procs:
            p.join()
    return {"one_process_s": walls[1], "two_processes_s": walls[2],
            "speedup": walls[1] / walls[2]}

"""RoundScheduler: the thesis's Hyperparameter Scheduler and Determinant (Fig. 7, 8) on Ray Tune.

Every trial is one (round, configuration) pair and trains ONE epoch: after its first report
(metrics plus a checkpoint, as a PBT trainable reports) the scheduler stops it. When all trials
of round r have reported or failed, the round closes: the best trial by the metric (ties broken
by accuracy, then loss) wins, and its checkpoint becomes the starting checkpoint, through
``tune.get_checkpoint()``, of every trial of round r+1. No trial of round r+1 starts before
round r closes.

Checkpoints: a trial's checkpoint is deleted as soon as it can no longer win its round (see
``RoundBook.beaten``), so the experiment keeps the winners' checkpoints (the model after every
round) and, within the open round, the leader's. ``keep_losing_checkpoints=True`` keeps all.
A snapshot may predate a deletion; on resume a finished trial whose checkpoint is gone can no
longer win.

State: Tune never calls a scheduler's own save/restore, so the round book lives in the searcher,
whose state Tune saves with the experiment; after a round closes the scheduler forces such an
experiment snapshot, so a killed driver resumes after the last closed round and no closed round
is ever run again. On resume the restored trials are re-added; unfinished ones start again from
their round's starting checkpoint.

Actors: with ``reuse_actors=True`` Tune keeps an idle actor only for a trial that is already
waiting for one, plus one spare. At a round's end the next round's trials do not exist yet, so
with k concurrent trials k - 1 actors would be stopped and k - 1 new ones (a process each, with
its imports) started every round. The scheduler therefore reserves a place in Tune's actor
cache for every actor that ends a trial once its round is fully proposed, and gives the places
back when the next round's first trial is chosen to run (or when the last round closes). And
when Tune hands an idle actor to the trial chosen to run, it stops the new actor that trial was
waiting for; with a new actor taking seconds to start (its imports) and small epochs, the second
of two workers would never start. So the trial chosen to run is one with no actor of its own
yet, when there is one.
"""

from __future__ import annotations

import copy
import logging
from typing import TYPE_CHECKING, Any

import pyarrow.fs
from ray.train import Checkpoint
from ray.train._internal.session import _TrainingResult
from ray.tune.experiment import Trial
from ray.tune.schedulers import TrialScheduler

from tune_gamma.rounds import RoundBook
from tune_gamma.tune.records import RoundScalars, write_rounds_json
from tune_gamma.tune.round_searcher import RoundSearcher

if TYPE_CHECKING:
    from ray.tune.execution.tune_controller import TuneController

logger = logging.getLogger(__name__)


class _ForeignCheckpointLogFilter(logging.Filter):
    """Drop Tune's "Remote file not found" warning for result files.

    Tune's loggers take any trial that starts from a checkpoint for a resumed one and look for
    its old result files; a round trial starts from its predecessor's checkpoint and has none.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Remote file not found")


def _quiet_foreign_checkpoint_warnings() -> None:
    tune_logger = logging.getLogger("ray.tune.logger.logger")
    if not any(isinstance(f, _ForeignCheckpointLogFilter) for f in tune_logger.filters):
        tune_logger.addFilter(_ForeignCheckpointLogFilter())


def _find_round_searcher(search_alg: Any) -> RoundSearcher | None:
    """Unwrap Tune's SearchGenerator / ConcurrencyLimiter down to our searcher."""
    node = search_alg
    while node is not None and not isinstance(node, RoundSearcher):
        node = getattr(node, "searcher", None)
    return node


class RoundScheduler(TrialScheduler):
    """Runs a per-epoch search as rounds of one-epoch trials.

    Args:
        rounds: number of rounds (epochs) to run.
        metric, mode: by default taken from ``tune.run``/``TuneConfig``; must agree with the
            searcher's.
        tensorboard: write round-level scalars (``<experiment>/rounds``).
        keep_losing_checkpoints: keep every trial's checkpoint; by default a checkpoint is
            deleted once it can no longer win its round (12 trials a round keep 1/12 of the
            disk space).

    After the run, ``scheduler.rounds`` holds every round (trial ids, configs, metrics,
    winner) and ``scheduler.schedule`` the winner's config per round: the learned schedule.
    The searcher must be one of tune_gamma's (``GammaSearcher``, ``GaussianSearcher``,
    ``GridSearcher``, ``RandomSearcher``): it proposes each round's trials.
    """

    def __init__(self, rounds: int = 10, metric: str | None = None, mode: str | None = None,
                 *, tensorboard: bool = True, keep_losing_checkpoints: bool = False) -> None:
        if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
            raise ValueError(f"rounds must be an integer >= 1, got {rounds!r}")
        if mode is not None and mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
        super().__init__()
        self.rounds_asked = rounds
        self._metric = metric
        self._mode = mode
        self.tensorboard = tensorboard
        self.keep_losing_checkpoints = keep_losing_checkpoints
        self._searcher: RoundSearcher | None = None
        self._controller: Any = None
        self._staging_dir: str | None = None
        self._scalars: RoundScalars | None = None
        self._snapshot_due = False
        self._reserved_actors: list[Any] = []
        _quiet_foreign_checkpoint_warnings()

    # -- public records -------------------------------------------------------------------
    @property
    def book(self) -> RoundBook | None:
        return self._searcher.book if self._searcher is not None else None

    @property
    def rounds(self) -> list[dict[str, Any]]:
        """Every round so far: trials (ids, configs, metrics, status), winner, start point."""
        return self.book.to_dict()["rounds"] if self.book is not None else []

    @property
    def schedule(self) -> list[dict[str, Any] | None]:
        """The winner's config per closed round (None where every trial diverged)."""
        return self.book.schedule if self.book is not None else []

    # -- Tune hooks -----------------------------------------------------------------------
    def set_search_properties(self, metric: str | None, mode: str | None, **spec: Any) -> bool:
        if self._metric and metric and self._metric != metric:
            return False
        if self._mode and mode and self._mode != mode:
            return False
        self._metric = self._metric or metric
        self._mode = self._mode or mode
        return True

    def _bind(self, tune_controller: TuneController, trial: Trial) -> RoundBook:
        if self._searcher is None:
            search_alg = tune_controller.search_alg
            searcher = _find_round_searcher(search_alg)
            if searcher is None:
                given = type(getattr(search_alg, "searcher", search_alg)).__name__
                raise ValueError(
                    "RoundScheduler needs one of tune_gamma's searchers (GammaSearcher, "
                    f"GaussianSearcher, GridSearcher, RandomSearcher) as search_alg; got {given}")
            searcher.enable_rounds(self.rounds_asked, self._metric, self._mode)
            self._searcher = searcher
            self._controller = tune_controller
            self._staging_dir = trial.storage.experiment_driver_staging_path
            if self.tensorboard:
                self._scalars = RoundScalars(self._staging_dir)
        return self._searcher.book

    def on_trial_add(self, tune_controller: TuneController, trial: Trial) -> None:
        book = self._bind(tune_controller, trial)
        record = book.trials.get(trial.trial_id)
        if record is None:
            raise ValueError(f"trial {trial.trial_id} was not proposed by the round searcher; "
                             "RoundScheduler cannot place it in a round")
        if trial.status in (Trial.TERMINATED, Trial.ERROR):
            # A finished trial restored on resume: its record is in the book already. In the
            # open round, its checkpoint may have been deleted as beaten after the snapshot.
            if not book.rounds[record.round].closed and record.checkpoint \
                    and not record.checkpoint_deleted \
                    and not _exists(trial.storage.storage_filesystem, record.checkpoint):
                book.forget_checkpoint(trial.trial_id)
            return
        # New, retried, or unfinished when the driver died: train from the round's start.
        book.reset_trial(trial.trial_id)
        _set_start_checkpoint(trial, book.rounds[record.round].start_checkpoint)

    def on_trial_result(self, tune_controller: TuneController, trial: Trial,
                        result: dict[str, Any]) -> str:
        return TrialScheduler.STOP  # one epoch per trial: its first report ends it

    def on_trial_complete(self, tune_controller: TuneController, trial: Trial,
                          result: dict[str, Any]) -> None:
        book = self.book
        record = book.trials.get(trial.trial_id) if book else None
        if record is None or record.finished:
            return
        start = book.rounds[record.round].start_checkpoint
        checkpoint = trial.checkpoint.path if trial.checkpoint is not None else None
        if checkpoint == start:
            checkpoint = None  # the trial reported no checkpoint of its own
            logger.warning("trial %s reported no checkpoint: it cannot win its round",
                           trial.trial_id)
        book.record_result(trial.trial_id, result or {}, checkpoint)
        self._delete_beaten(record.round, trial.storage.storage_filesystem)
        self._maybe_close(record.round)
        self._keep_actor(trial, record.round)

    def on_trial_error(self, tune_controller: TuneController, trial: Trial) -> None:
        if trial.should_recover():
            return  # Tune retries it (max_failures) and adds it again
        self._fail(trial)

    def on_trial_remove(self, tune_controller: TuneController, trial: Trial) -> None:
        self._fail(trial)

    def choose_trial_to_run(self, tune_controller: TuneController) -> Trial | None:
        if self._snapshot_due:
            self._snapshot()
        book = self.book
        if book is None or book.current is None or book.current.closed:
            return None
        current = book.current.index
        waiting = [t for t in tune_controller.get_trials() if t.status == Trial.PENDING
                   and getattr(book.trials.get(t.trial_id), "round", None) == current]
        if not waiting:
            return None
        self._release_actors()
        # Tune gives the trial chosen here an idle actor if it has one, and stops the new actor
        # that trial may be waiting for. Prefer a trial with no actor of its own yet, so a new
        # actor that is still starting (seconds of imports) keeps its trial and gets to run.
        starting = self._trials_with_actors()
        return next((t for t in waiting if t not in starting), waiting[0])

    def debug_string(self) -> str:
        book = self.book
        if book is None or book.current is None:
            return f"RoundScheduler: {self.rounds_asked} rounds, none started."
        closed = len(book.closed_rounds)
        text = f"RoundScheduler: round {min(closed + 1, self.rounds_asked)} of {self.rounds_asked}"
        last = book.closed_rounds[-1] if closed else None
        if last is not None and last.winner is not None:
            value = (book.trials[last.winner].metrics or {}).get(book.metric)
            text += f"; last winner {book.metric}={value:.4f}" if value is not None else ""
        return text + "."

    # -- rounds ---------------------------------------------------------------------------
    def _fail(self, trial: Trial) -> None:
        book = self.book
        record = book.trials.get(trial.trial_id) if book else None
        if record is None or record.finished:
            return
        book.record_error(trial.trial_id)
        self._maybe_close(record.round)

    def _maybe_close(self, index: int) -> None:
        book = self.book
        record = book.rounds[index]
        if record.closed or not book.is_complete(record):
            return
        winner = book.close_round(record)
        if winner is None:
            logger.warning("round %d: every trial diverged; round %d starts again from the "
                           "same weights", index, index + 1)
        else:
            logger.info("round %d of %d closed: winner %s %s=%s config=%s", index + 1,
                        book.rounds_total, winner.trial_id, book.metric,
                        (winner.metrics or {}).get(book.metric), winner.config)
        if self._scalars is not None:
            self._scalars.log_round(book, index)
            if book.finished:
                self._scalars.close()  # the writer flushes its last events only on close
                self._scalars = None
        write_rounds_json(book, self._staging_dir)
        self._snapshot_due = True
        if book.finished:
            self._release_actors()

    def _delete_beaten(self, index: int, filesystem: pyarrow.fs.FileSystem) -> None:
        """Delete the checkpoints of round ``index`` that can no longer win it."""
        if self.keep_losing_checkpoints:
            return
        book = self.book
        for loser in book.beaten(book.rounds[index]):
            try:
                filesystem.delete_dir(loser.checkpoint)
            except FileNotFoundError:
                pass
            except OSError as exc:  # a full or read-only store must not end the run
                logger.warning("cannot delete the checkpoint %s of trial %s: %s",
                               loser.checkpoint, loser.trial_id, exc)
            book.mark_checkpoint_deleted(loser.trial_id)

    # -- actor reuse across rounds ---------------------------------------------------------
    def _actor_cache(self) -> Any:
        """Tune's cache of idle actors (private, as PBT's state is), or None without reuse."""
        controller = getattr(self._controller, "_tune_controller", self._controller)
        if not getattr(controller, "_reuse_actors", False):
            return None
        cache = getattr(controller, "_actor_cache", None)
        return cache if hasattr(cache, "increase_max") else None

    def _trials_with_actors(self) -> Any:
        """Trials Tune has an actor for, started or starting (private; empty if unknown)."""
        controller = getattr(self._controller, "_tune_controller", self._controller)
        return getattr(controller, "_trial_to_actor", None) or {}

    def _keep_actor(self, trial: Trial, index: int) -> None:
        """Reserve a cached actor for the next round: ``trial`` ended once round ``index`` had
        all its trials, so no waiting trial would keep its actor (see the module doc)."""
        book = self.book
        if book.finished or not book.is_full(book.rounds[index]):
            return
        cache = self._actor_cache()
        if cache is not None:
            cache.increase_max(trial.placement_group_factory)
            self._reserved_actors.append(trial.placement_group_factory)

    def _release_actors(self) -> None:
        """Give back the reserved places: the next round's trials now claim the actors."""
        cache = self._actor_cache() if self._reserved_actors else None
        for resources in self._reserved_actors:
            if cache is not None:
                cache.decrease_max(resources)
        self._reserved_actors.clear()

    def _snapshot(self) -> None:
        """Make Tune save the experiment now: trials, searcher and round book together."""
        self._snapshot_due = False
        # The scheduler's controller handle is a wrapper; the experiment snapshot is not on its
        # public list, so reach the controller itself, as Ray's PBT reaches private state.
        controller = getattr(self._controller, "_tune_controller", self._controller)
        controller.checkpoint(force=True, wait=True)


def _exists(filesystem: pyarrow.fs.FileSystem, path: str) -> bool:
    return filesystem.get_file_info(path).type != pyarrow.fs.FileType.NotFound


def _set_start_checkpoint(trial: Trial, path: str | None) -> None:
    """Make ``tune.get_checkpoint()`` return ``path`` when the trial starts (as PBT does)."""
    manager = trial.run_metadata.checkpoint_manager
    if path is None:
        manager._latest_checkpoint_result = None
        return
    # A trial holding a checkpoint needs its directory name, or Tune cannot restore it on resume.
    trial.init_local_path()
    checkpoint = Checkpoint(path=path, filesystem=copy.copy(trial.storage.storage_filesystem))
    manager._latest_checkpoint_result = _TrainingResult(checkpoint=checkpoint, metrics={})

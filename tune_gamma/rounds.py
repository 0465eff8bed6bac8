"""The round book: which trial belongs to which round, what each scored, who won.

Pure Python (no Ray): the searcher owns one book and saves it with its own state, so a resumed
experiment finds every closed round exactly as it was; the scheduler fills it in and closes rounds.

Ranking (the thesis's *Determinant*, Fig. 8: high accuracy and low loss): the trial metric first
(kappa by default), then validation accuracy, then validation loss. A trial whose metric or loss
is NaN/inf has diverged: it ranks below every finite trial and never wins. A round whose finite
metrics are all equal (e.g. every kappa on its floor of 0) is *flat*: its winner comes from the
tie-breaks alone, and the book counts such rounds.

Checkpoints that can no longer win: the winner is the best of the round's finished trials
under the ranking, so once a trial has finished, every other finished trial that ranks below
the current leader (or diverged, or ties it but came later) is out for good. ``beaten`` lists
them, so that their checkpoints can be deleted before the round closes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

PENDING, DONE, ERROR = "pending", "done", "error"


@dataclass
class TrialRecord:
    """One trial of one round."""

    trial_id: str
    round: int
    config: dict[str, Any]
    status: str = PENDING
    metrics: dict[str, float] | None = None
    checkpoint: str | None = None
    checkpoint_deleted: bool = False

    @property
    def finished(self) -> bool:
        return self.status in (DONE, ERROR)


@dataclass
class RoundRecord:
    """One round: its trials (in proposal order), where they started from, and its winner.

    ``winner`` is None for a closed round when every survivor diverged; the next round then
    starts again from this round's starting weights.
    """

    index: int
    start_checkpoint: str | None
    trial_ids: list[str] = field(default_factory=list)
    closed: bool = False
    winner: str | None = None
    flat: bool = False


def _finite(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


class RoundBook:
    """Rounds of a per-epoch search and the rule that picks each round's winner."""

    def __init__(self, samples_per_round: int, rounds: int | None, metric: str, mode: str,
                 accuracy_key: str = "accuracy", loss_key: str = "loss") -> None:
        if samples_per_round < 1:
            raise ValueError(f"samples_per_round must be >= 1, got {samples_per_round!r}")
        if rounds is not None and rounds < 1:
            raise ValueError(f"rounds must be >= 1, got {rounds!r}")
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
        self.samples_per_round = samples_per_round
        self.rounds_total = rounds
        self.metric = metric
        self.mode = mode
        self.accuracy_key = accuracy_key
        self.loss_key = loss_key
        self.rounds: list[RoundRecord] = []
        self.trials: dict[str, TrialRecord] = {}

    # -- building -------------------------------------------------------------------------
    @property
    def current(self) -> RoundRecord | None:
        return self.rounds[-1] if self.rounds else None

    @property
    def closed_rounds(self) -> list[RoundRecord]:
        return [r for r in self.rounds if r.closed]

    @property
    def finished(self) -> bool:
        """Every round asked for has closed."""
        return self.rounds_total is not None and len(self.closed_rounds) >= self.rounds_total

    def open_round(self) -> RoundRecord:
        """Start the next round from the last closed round's winner (or its own start)."""
        if self.current is not None and not self.current.closed:
            raise RuntimeError(f"round {self.current.index} is still open")
        if self.finished:
            raise RuntimeError(f"all {self.rounds_total} rounds are closed")
        record = RoundRecord(index=len(self.rounds), start_checkpoint=self.next_start_checkpoint())
        self.rounds.append(record)
        return record

    def next_start_checkpoint(self) -> str | None:
        """Where the next round starts: the last winner's checkpoint (None before any winner)."""
        if not self.rounds:
            return None
        last = self.rounds[-1]
        if last.winner is not None:
            return self.trials[last.winner].checkpoint
        return last.start_checkpoint

    def is_full(self, record: RoundRecord) -> bool:
        return len(record.trial_ids) >= self.samples_per_round

    def add_trial(self, trial_id: str, config: Mapping[str, Any]) -> TrialRecord:
        """Add a proposed trial to the current (open, not full) round."""
        record = self.current
        if record is None or record.closed:
            record = self.open_round()
        if self.is_full(record):
            raise RuntimeError(f"round {record.index} already has {self.samples_per_round} trials")
        if trial_id in self.trials:
            raise ValueError(f"trial {trial_id!r} is already in round "
                             f"{self.trials[trial_id].round}")
        trial = TrialRecord(trial_id, record.index, dict(config))
        self.trials[trial_id] = trial
        record.trial_ids.append(trial_id)
        return trial

    def record_result(self, trial_id: str, metrics: Mapping[str, Any],
                      checkpoint: str | None) -> TrialRecord:
        trial = self.trials[trial_id]
        trial.metrics = {k: float(v) for k, v in metrics.items() if _finite(v) is not None
                         or isinstance(v, float)}
        trial.checkpoint = checkpoint
        trial.status = DONE
        return trial

    def record_error(self, trial_id: str) -> TrialRecord:
        trial = self.trials[trial_id]
        trial.status = ERROR
        return trial

    def reset_trial(self, trial_id: str) -> TrialRecord:
        """A trial that runs again (a retry, or unfinished when the driver died) starts afresh."""
        trial = self.trials[trial_id]
        trial.status, trial.metrics, trial.checkpoint = PENDING, None, None
        trial.checkpoint_deleted = False
        return trial

    # -- closing --------------------------------------------------------------------------
    def is_complete(self, record: RoundRecord) -> bool:
        """All of the round's trials were proposed and have finished (reported or failed)."""
        return self.is_full(record) and all(self.trials[t].finished for t in record.trial_ids)

    def diverged(self, trial: TrialRecord) -> bool:
        if trial.metrics is None:
            return True
        metric = _finite(trial.metrics.get(self.metric))
        loss = trial.metrics.get(self.loss_key)
        return metric is None or (loss is not None and _finite(loss) is None)

    def rank_key(self, trial: TrialRecord) -> tuple[float, float, float]:
        """Larger is better: (metric, accuracy, -loss) with the metric's sign set by the mode."""
        m = trial.metrics or {}
        sign = 1.0 if self.mode == "max" else -1.0
        metric = _finite(m.get(self.metric))
        accuracy = _finite(m.get(self.accuracy_key))
        loss = _finite(m.get(self.loss_key))
        return (sign * metric if metric is not None else -math.inf,
                accuracy if accuracy is not None else -math.inf,
                -loss if loss is not None else -math.inf)

    def candidates(self, record: RoundRecord) -> list[TrialRecord]:
        """Finished trials that can win: reported, not diverged, with a checkpoint."""
        return [t for t in self.survivors(record) if not self.diverged(t) and t.checkpoint]

    def leader(self, record: RoundRecord) -> TrialRecord | None:
        """The trial ``close_round`` would pick among the trials finished so far (the first best
        in proposal order); None while no finished trial can win."""
        candidates = self.candidates(record)
        return max(candidates, key=self.rank_key) if candidates else None

    def beaten(self, record: RoundRecord) -> list[TrialRecord]:
        """Finished trials of ``record`` whose checkpoints can no longer win it, not yet deleted.

        Later trials only add candidates, and the winner is the best of all of them with the
        first in proposal order taking ties, so a finished trial other than the current
        ``leader`` never wins. Once the round has closed, the beaten are its losers.
        """
        leader = self.leader(record)
        return [t for t in self.survivors(record)
                if t.checkpoint and not t.checkpoint_deleted and t is not leader
                and t.checkpoint != record.start_checkpoint]

    def mark_checkpoint_deleted(self, trial_id: str) -> None:
        self.trials[trial_id].checkpoint_deleted = True

    def forget_checkpoint(self, trial_id: str) -> None:
        """The trial's checkpoint is gone (deleted as beaten before a driver died and was resumed
        from an older snapshot): the trial keeps its result but can no longer win."""
        trial = self.trials[trial_id]
        trial.checkpoint, trial.checkpoint_deleted = None, False

    def survivors(self, record: RoundRecord) -> list[TrialRecord]:
        return [self.trials[t] for t in record.trial_ids if self.trials[t].status == DONE]

    def close_round(self, record: RoundRecord) -> TrialRecord | None:
        """Pick the winner (first best in proposal order) and close the round.

        Raises ``RoundFailedError`` when no trial of the round survived.
        """
        if record.closed:
            return self.trials[record.winner] if record.winner else None
        survivors = self.survivors(record)
        if not survivors:
            raise RoundFailedError(
                f"round {record.index}: all {len(record.trial_ids)} trials failed, so there is "
                f"no model to carry on; see the trials' error files for the cause")
        candidates = self.candidates(record)
        winner = self.leader(record)
        metrics = {_finite((t.metrics or {}).get(self.metric)) for t in candidates}
        record.flat = len(candidates) > 1 and len(metrics) == 1
        record.winner = winner.trial_id if winner else None
        record.closed = True
        return winner

    # -- reading --------------------------------------------------------------------------
    @property
    def schedule(self) -> list[dict[str, Any] | None]:
        """The winner's config per closed round: the learned schedule."""
        return [self.trials[r.winner].config if r.winner else None for r in self.closed_rounds]

    @property
    def flat_rounds(self) -> int:
        return sum(r.flat for r in self.closed_rounds)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able record of every round (what ``rounds.json`` holds)."""
        rounds = []
        for r in self.rounds:
            rounds.append({
                "round": r.index,
                "closed": r.closed,
                "start_checkpoint": r.start_checkpoint,
                "winner": r.winner,
                "winner_config": self.trials[r.winner].config if r.winner else None,
                "winner_metrics": self.trials[r.winner].metrics if r.winner else None,
                "flat": r.flat,
                "trials": [asdict(self.trials[t]) for t in r.trial_ids],
            })
        return {"metric": self.metric, "mode": self.mode,
                "samples_per_round": self.samples_per_round, "rounds_total": self.rounds_total,
                "flat_rounds": self.flat_rounds, "schedule": self.schedule, "rounds": rounds}


class RoundFailedError(RuntimeError):
    """Every trial of a round failed: there is no model to carry into the next round."""

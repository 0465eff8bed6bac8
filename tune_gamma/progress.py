"""Progress of a round search on the console: one line per closed round.

``RoundProgress(scheduler)`` is a ``ray.tune.Callback``; Tune calls the scheduler's
``on_trial_complete`` before its callbacks', so a round that a trial's end closes is already in
the scheduler's round book when the callback looks.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any, TextIO

from ray import tune


def format_round_line(record: dict[str, Any], rounds_total: int, best_kappa: float | None,
                      elapsed: float, metric: str = "kappa") -> str:
    """``round  3/10  lr 0.02345  kappa 3.1234 (best 3.3012)  val acc 0.9611 loss 0.1234 ...``.

    ``record`` is one round of ``RoundBook.to_dict()["rounds"]``.
    """
    index = int(record["round"]) + 1
    width = len(str(rounds_total))
    head = f"round {index:>{width}}/{rounds_total}"
    trials = record.get("trials", [])
    failed = sum(t.get("status") == "error" for t in trials)
    tail = f"{len(trials)} trials" + (f", {failed} failed" if failed else "")
    tail += f"  elapsed {elapsed:6.1f}s"
    metrics = record.get("winner_metrics") or {}
    config = record.get("winner_config") or {}
    if not record.get("winner"):
        return f"{head}  no winner: every trial diverged  {tail}"
    value = _number(metrics.get(metric))
    best = f" (best {best_kappa:.4f})" if best_kappa is not None else ""
    lr = _number(config.get("lr"))
    parts = [head, f"lr {lr:.5g}" if lr is not None else "lr ?",
             f"{metric} {value:.4f}{best}" if value is not None else f"{metric} ?",
             f"val acc {_fmt(metrics.get('accuracy'))} loss {_fmt(metrics.get('loss'))}"]
    if record.get("flat"):
        parts.append("flat")
    return "  ".join([*parts, tail])


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _fmt(value: Any) -> str:
    number = _number(value)
    return f"{number:.4f}" if number is not None else "?"


def round_summary(book: Any, record: Any) -> dict[str, Any]:
    """One ``RoundRecord`` of a ``RoundBook`` in the shape of ``RoundBook.to_dict()["rounds"]``
    (only the fields the progress line reads)."""
    winner = book.trials[record.winner] if record.winner else None
    return {"round": record.index, "closed": record.closed, "winner": record.winner,
            "winner_config": winner.config if winner else None,
            "winner_metrics": winner.metrics if winner else None, "flat": record.flat,
            "trials": [{"status": book.trials[t].status} for t in record.trial_ids]}


class RoundProgress(tune.Callback):
    """Prints each round as it closes: learning rate, metric, best so far, elapsed time."""

    def __init__(self, scheduler: Any, stream: TextIO | None = None,
                 started: float | None = None) -> None:
        self.scheduler = scheduler
        self.stream = stream
        self.started = time.perf_counter() if started is None else started
        self.printed = 0
        self.best: float | None = None

    def _write(self, line: str, transient: bool = False) -> None:
        """A line; on a terminal a ``transient`` one is overwritten by the next write."""
        stream = self.stream or sys.stdout
        tty = stream.isatty()
        if transient and not tty:
            return
        clear = "\r\x1b[2K" if tty else ""
        stream.write(clear + line + ("" if transient else "\n"))
        stream.flush()

    def _poll(self) -> None:
        book = self.scheduler.book
        if book is None:
            return
        closed = book.closed_rounds
        total = book.rounds_total or len(closed)
        for round_record in closed[self.printed:]:
            record = round_summary(book, round_record)
            value = _number((record.get("winner_metrics") or {}).get(book.metric))
            if value is not None:
                better = self.best is None or (value > self.best if book.mode == "max"
                                               else value < self.best)
                self.best = value if better else self.best
            elapsed = time.perf_counter() - self.started
            self._write(format_round_line(record, total, self.best, elapsed, book.metric))
        self.printed = len(closed)
        current = book.current
        if current is not None and not current.closed:
            done = sum(book.trials[t].finished for t in current.trial_ids)
            elapsed = time.perf_counter() - self.started
            self._write(f"round {current.index + 1}/{total}: {done}/{book.samples_per_round} "
                        f"trials done  elapsed {elapsed:.1f}s", transient=True)

    def on_trial_complete(self, iteration: int, trials: list[Any], trial: Any,
                          **info: Any) -> None:
        self._poll()

    def on_trial_error(self, iteration: int, trials: list[Any], trial: Any,
                       **info: Any) -> None:
        self._poll()

    def on_experiment_end(self, trials: list[Any], **info: Any) -> None:
        self._poll()

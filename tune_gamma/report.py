"""Tables and figures of a finished run, from its output directory alone.

``tune-gamma report DIR`` and ``run_search`` both end here: ``format_report`` prints the learned
schedule and the test metrics from ``summary.json``; ``write_figures`` draws ``schedule.png``,
``round_XX.png`` (one per closed round, from ``rounds.json``) and ``confusion_matrix.png``.
No Ray session and no training: a round's surrogate is refitted from its observations.

The refit: a fresh proposer of the run's searcher, built with the round's own seed (as the
searcher seeds each round), is told that round's observations in proposal order, each as the
value the searcher gave its proposer (``RoundSearcher.signal``: kappa, or accuracy − loss when
kappa sits on its floor of 0; NaN for a diverged or failed trial). The live searcher was told
them in completion order, so with several workers the refitted hyper-parameters may differ
slightly from the ones it used.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tune_gamma.plots import (
    RoundCurve,
    Surrogate,
    plot_confusion_matrix,
    plot_round,
    plot_schedule,
)
from tune_gamma.run import ROUNDS_FILE, SUMMARY_FILE, make_searcher, round_seed

BAND = 0.95
GRID_POINTS = 300
CIFAR10_LABELS = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                  "ship", "truck")


class ReportError(Exception):
    """The directory holds no readable run: one line for the user."""


@dataclass(frozen=True)
class RunRecord:
    """A finished run as read back: ``summary.json`` and (if found) ``rounds.json``."""

    directory: Path
    summary: dict[str, Any]
    book: dict[str, Any] | None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        payload = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ReportError(f"cannot read {path}: {exc}") from None
    if not isinstance(payload, dict):
        raise ReportError(f"{path} does not hold a JSON object")
    return payload


def load_run(directory: str | os.PathLike[str]) -> RunRecord:
    """Read ``DIR/summary.json`` and the ``rounds.json`` it names (relative to DIR)."""
    root = Path(directory)
    if not root.is_dir():
        raise ReportError(f"{str(root)!r} is not a directory")
    summary_path = root / SUMMARY_FILE
    if not summary_path.is_file():
        raise ReportError(f"no {SUMMARY_FILE} in {str(root)!r}: give the --out directory of a "
                          "finished tune-gamma run")
    summary = _read_json(summary_path)
    rounds_path = root / summary.get("rounds_json", ROUNDS_FILE)
    book = _read_json(rounds_path) if rounds_path.is_file() else None
    return RunRecord(root, summary, book)


# ---------------------------------------------------------------------------------- tables


def _cell(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return format(value, fmt)


def format_schedule(summary: dict[str, Any]) -> str:
    """The learned schedule: round, learning rate, kappa, val accuracy, val loss, flat?"""
    metric = summary.get("metric", "kappa")
    header = f"{'round':>5}  {'learning rate':>13}  {metric:>8}  {'val acc':>7}  " \
             f"{'val loss':>8}  flat"
    lines = [header, "-" * len(header)]
    for r in summary.get("rounds", []):
        if not r.get("closed"):
            continue
        lr = _cell(r.get("lr"), ".5g") if r.get("winner") else "no winner"
        lines.append(f"{r['round'] + 1:>5}  {lr:>13}  {_cell(r.get('kappa'), '.4f'):>8}  "
                     f"{_cell(r.get('val_accuracy'), '.4f'):>7}  "
                     f"{_cell(r.get('val_loss'), '.4f'):>8}  {'yes' if r.get('flat') else ''}")
    return "\n".join(lines)


def format_test_metrics(summary: dict[str, Any]) -> str:
    """The final model's metrics on the held-out test split, one per line."""
    final = summary.get("final_round")
    source = f"round {final + 1} winner" if final is not None else "untrained initial model"
    rows = [("accuracy", summary.get("test_accuracy")), ("loss", summary.get("test_loss")),
            ("sensitivity", summary.get("sensitivity")),
            ("specificity", summary.get("specificity")), ("MCC", summary.get("mcc"))]
    lines = [f"Final model ({source}) on the TEST split:"]
    lines += [f"  {name:<12} {_cell(value, '.4f')}" for name, value in rows]
    return "\n".join(lines)


def format_report(summary: dict[str, Any], directory: str | os.PathLike[str]) -> str:
    """Schedule table, test metrics, run statistics and where the files are."""
    opts = summary.get("options", {})
    title = (f"Learned schedule ({summary.get('searcher')} search, {opts.get('data')} "
             f"{opts.get('setting')}, {opts.get('model')}, "
             f"{opts.get('samples_per_round')} samples per round):")
    stats = (f"{summary.get('evaluations')} trials in {_cell(summary.get('wall_seconds'), '.1f')}"
             f" s (search {_cell(summary.get('search_seconds'), '.1f')} s); flat rounds: "
             f"{summary.get('flat_rounds', 0)} of {summary.get('rounds_closed', 0)}")
    where = [f"Results:     {directory} (summary.json, rounds.json, *.png)"]
    if summary.get("experiment_path"):
        where.append(f"TensorBoard: tensorboard --logdir {summary['experiment_path']}")
    return "\n".join([title, format_schedule(summary), "", format_test_metrics(summary), "",
                      stats, *where])


# ---------------------------------------------------------------------------------- rounds


def _space(summary: dict[str, Any]) -> Any:
    from tune_gamma.bo.space import Dimension, SearchSpace

    dims = summary.get("space") or []
    if not dims:
        raise ReportError("summary.json has no 'space': cannot place the observations")
    return SearchSpace(Dimension(d["name"], float(d["low"]), float(d["high"]),
                                 log=bool(d.get("log"))) for d in dims)


def observations(record: dict[str, Any], space: Any, searcher: Any) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """Points ``(n, d)`` and proposer signals ``(n,)`` of one round, in proposal order.

    A failed trial, or one whose metric or loss was not finite (``rounds.json`` stores those
    as null), gives NaN, as it did in the live searcher.
    """
    points, values = [], []
    for trial in record.get("trials", []):
        config = trial.get("config") or {}
        points.append([float(config[name]) for name in space.names])
        metrics = trial.get("metrics") or {}
        usable = (trial.get("status") == "done" and metrics.get(searcher.metric) is not None
                  and metrics.get(searcher.loss_key) is not None)
        values.append(searcher.signal(metrics) if usable else math.nan)
    return np.asarray(points, dtype=float).reshape(-1, space.ndim), np.asarray(values, float)


def refit_surrogate(summary: dict[str, Any], record: dict[str, Any],
                    axis: str = "lr") -> tuple[RoundCurve, Any]:
    """The figure data of one round and the refitted proposer (None for grid/random)."""
    from scipy import stats

    space = _space(summary)
    searcher = make_searcher(summary.get("searcher", "gamma"),
                             samples_per_round=max(1, len(record.get("trials", []))),
                             seed=int(summary.get("seed", 0)), space=space,
                             metric=summary.get("metric", "kappa"),
                             mode=summary.get("mode", "max"))
    X, y = observations(record, space, searcher)
    index = space.names.index(axis) if axis in space.names else 0
    dim = space.dimensions[index]
    trial_ids = [t["trial_id"] for t in record.get("trials", [])]
    winner = trial_ids.index(record["winner"]) if record.get("winner") in trial_ids else None
    proposer = searcher.make_proposer(space, round_seed(int(summary.get("seed", 0)),
                                                        int(record["round"])), [])
    surrogate, note = None, ""
    if hasattr(proposer, "predict"):
        for x, value in zip(X, y, strict=True):
            proposer.tell(x, value)
        if proposer.has_model:
            anchor = X[winner] if winner is not None else X[np.nanargmax(y)] if np.isfinite(
                y).any() else space.from_unit(np.full(space.ndim, 0.5))
            grid = np.repeat(np.asarray(anchor, float)[None, :], GRID_POINTS, axis=0)
            unit = np.linspace(0.0, 1.0, GRID_POINTS)
            grid[:, index] = dim.from_unit(unit)
            pred = proposer.predict(grid)
            if pred.dof is None:
                q, label = stats.norm.ppf(0.5 + BAND / 2), f"{BAND:.0%} Gaussian band"
            else:
                q = stats.t.ppf(0.5 + BAND / 2, pred.dof)
                label = f"{BAND:.0%} Student-t band (dof {pred.dof:.1f})"
            surrogate = Surrogate(grid[:, index], pred.mean, pred.mean - q * pred.scale,
                                  pred.mean + q * pred.scale, proposer.acquisition(grid), label)
            if space.ndim > 1:
                note = "slice through the winner"
        else:
            note = "too few finite observations for a surrogate"
    floor = summary.get("metric", "kappa") == "kappa"
    curve = RoundCurve(
        round=int(record["round"]), lr=X[:, index], signal=y, winner=winner,
        log_x=dim.log, bounds=(dim.low, dim.high),
        ylabel="kappa (accuracy − loss where kappa = 0)" if floor else "signal",
        surrogate=surrogate, note=note or f"{summary.get('searcher')} search")
    return curve, proposer if surrogate is not None else None


def write_figures(summary: dict[str, Any], book: dict[str, Any] | None,
                  directory: str | os.PathLike[str]) -> list[str]:
    """Draw ``schedule.png``, ``round_XX.png`` (from the round book) and
    ``confusion_matrix.png`` into ``directory``; return their paths."""
    out = Path(directory)
    paths = []
    rounds = [r for r in summary.get("rounds", []) if r.get("closed")]
    space = summary.get("space") or [{}]
    lr_dim = next((d for d in space if d.get("name") == "lr"), space[0])
    bounds = (lr_dim["low"], lr_dim["high"]) if "low" in lr_dim else None
    paths.append(plot_schedule([r["round"] for r in rounds],
                               [r.get("lr") if r.get("winner") else None for r in rounds],
                               out / "schedule.png", log_y=bool(lr_dim.get("log", True)),
                               bounds=bounds))
    if book is not None:
        for record in book.get("rounds", []):
            if record.get("closed") and record.get("trials"):
                curve, _ = refit_surrogate(summary, record)
                paths.append(plot_round(curve, out / f"round_{record['round'] + 1:02d}.png"))
    if summary.get("confusion_matrix"):
        data = (summary.get("options") or {}).get("data")
        labels = CIFAR10_LABELS if data == "cifar10" else None
        acc = summary.get("test_accuracy")
        title = f"Confusion matrix, test split (accuracy {_cell(acc, '.4f')})"
        paths.append(plot_confusion_matrix(summary["confusion_matrix"],
                                           out / "confusion_matrix.png", labels=labels,
                                           title=title))
    return paths


def render(directory: str | os.PathLike[str]) -> tuple[str, list[str]]:
    """``tune-gamma report DIR``: the report text and the re-drawn figures."""
    run = load_run(directory)
    try:
        figures = write_figures(run.summary, run.book, run.directory)
        text = format_report(run.summary, run.directory)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ReportError(f"{run.directory} does not hold a readable tune-gamma run "
                          f"({type(exc).__name__}: {exc})") from None
    if run.book is None:
        text += (f"\n(no {run.summary.get('rounds_json', ROUNDS_FILE)} in {run.directory}: "
                 "round figures skipped)")
    return text, figures

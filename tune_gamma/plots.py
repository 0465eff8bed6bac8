"""Figures of a run, drawn with matplotlib's Agg canvas (no display, no pyplot state).

* ``plot_schedule``: the learned learning rate per round.
* ``plot_round``: one round as the thesis's Fig. 12/13 draw the BO: observations of the
  proposer's signal over the learning rate, the surrogate's mean with a 95 % band, and the
  acquisition (EI) in a panel below. Without a surrogate (grid, random) only the observations.
* ``plot_confusion_matrix``: test-set confusion matrix as a heat map (thesis Fig. 18-21).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

DPI = 100
_PLAIN = FuncFormatter(lambda value, _: f"{value:g}")


@dataclass(frozen=True)
class Surrogate:
    """The surrogate along the learning rate: ``x`` (m,), mean, band and EI (m,) each."""

    x: np.ndarray
    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    acquisition: np.ndarray
    band_label: str


@dataclass(frozen=True)
class RoundCurve:
    """What one round's figure shows.

    ``lr`` and ``signal`` (n,) are the observations in proposal order (``signal`` NaN for a
    diverged or failed trial); ``winner`` indexes the round's winner (None: no winner).
    """

    round: int
    lr: np.ndarray
    signal: np.ndarray
    winner: int | None
    log_x: bool
    bounds: tuple[float, float]
    ylabel: str = "signal"
    surrogate: Surrogate | None = None
    note: str = ""


def _save(fig: Figure, path: str | os.PathLike[str]) -> str:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=DPI)
    return os.fspath(path)


def plot_schedule(rounds: Sequence[int], lrs: Sequence[float | None],
                  path: str | os.PathLike[str], *, log_y: bool = True,
                  bounds: tuple[float, float] | None = None, title: str = "") -> str:
    """Learning rate per round (1-based on the axis); rounds without a winner are marked."""
    fig = Figure(figsize=(6.4, 3.6))
    ax = fig.add_subplot()
    xs = np.asarray(rounds, dtype=float) + 1
    ys = np.array([np.nan if v is None else float(v) for v in lrs], dtype=float)
    ax.step(xs, ys, where="mid", color="tab:blue", alpha=0.5)
    ax.plot(xs, ys, "o", color="tab:blue", label="winner's learning rate")
    missing = xs[np.isnan(ys)]
    if missing.size:
        y0 = bounds[0] if bounds else np.nanmin(ys) if np.isfinite(ys).any() else 1.0
        ax.plot(missing, np.full(missing.size, y0), "x", color="tab:red", label="no winner")
    if bounds:
        for b in bounds:
            ax.axhline(b, color="0.7", lw=0.8, ls=":")
    if log_y:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(_PLAIN)
        ax.yaxis.set_minor_formatter(_PLAIN)
        ax.tick_params(axis="y", which="minor", labelsize=7)
    ax.set_xlabel("round (epoch)")
    ax.set_ylabel("learning rate")
    ax.set_xticks(xs if xs.size <= 20 else ax.get_xticks())
    ax.set_title(title or "Learned learning-rate schedule")
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    return _save(fig, path)


def plot_round(curve: RoundCurve, path: str | os.PathLike[str]) -> str:
    """Observations (and surrogate, band and EI when there is one) of one round."""
    fig = Figure(figsize=(6.4, 5.2 if curve.surrogate else 3.8))
    if curve.surrogate is not None:
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    else:
        top, bottom = fig.add_subplot(), None
    s = curve.surrogate
    if s is not None:
        top.plot(s.x, s.mean, color="tab:blue", label="surrogate mean")
        top.fill_between(s.x, s.lower, s.upper, color="tab:blue", alpha=0.2, label=s.band_label)
        bottom.plot(s.x, s.acquisition, color="tab:green")
        bottom.fill_between(s.x, 0, s.acquisition, color="tab:green", alpha=0.2)
        bottom.set_ylabel("EI")
        bottom.set_xlabel("learning rate")
    else:
        top.set_xlabel("learning rate")
    finite = np.isfinite(curve.signal)
    order = np.arange(1, curve.lr.size + 1)
    top.plot(curve.lr[finite], curve.signal[finite], "o", color="tab:orange", mec="k",
             zorder=3, label="observations (number: proposal order)")
    y_shown = curve.signal.copy()
    if (~finite).any():
        y_shown[~finite] = np.min(curve.signal[finite]) if finite.any() else 0.0
        top.plot(curve.lr[~finite], y_shown[~finite], "x", color="tab:red",
                 ms=8, zorder=3, label="diverged / failed")
    for number, x, y in zip(order, curve.lr, y_shown, strict=True):
        top.annotate(str(number), (x, y), textcoords="offset points", xytext=(4, 4),
                     fontsize=7, color="0.3")
    if curve.winner is not None:
        top.plot(curve.lr[curve.winner], curve.signal[curve.winner], "*", color="tab:red",
                 ms=16, mec="k", zorder=4, label="winner")
    for ax in (top, bottom):
        if ax is None:
            continue
        if curve.log_x:
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(_PLAIN)
            ax.xaxis.set_minor_formatter(_PLAIN)
            ax.tick_params(axis="x", which="minor", labelsize=7)
        ax.set_xlim(*curve.bounds)
    top.set_ylabel(curve.ylabel)
    title = f"Round {curve.round + 1}"
    top.set_title(f"{title}: {curve.note}" if curve.note else title, fontsize="medium")
    top.legend(loc="best", fontsize="x-small")
    fig.tight_layout()
    return _save(fig, path)


def plot_confusion_matrix(cm: np.ndarray | Sequence[Sequence[int]],
                          path: str | os.PathLike[str], *, labels: Sequence[str] | None = None,
                          title: str = "Confusion matrix (test)") -> str:
    """Heat map of ``cm[i, j]`` = true class i predicted as j, with the counts written in."""
    matrix = np.asarray(cm, dtype=float)
    k = matrix.shape[0]
    labels = list(labels) if labels is not None else [str(i) for i in range(k)]
    fig = Figure(figsize=(5.6, 4.8))
    ax = fig.add_subplot()
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    threshold = matrix.max() / 2 if matrix.size else 0
    for i in range(k):
        for j in range(k):
            ax.text(j, i, f"{int(matrix[i, j])}", ha="center", va="center", fontsize=7,
                    color="white" if matrix[i, j] > threshold else "black")
    ax.set_xticks(range(k), labels)
    ax.set_yticks(range(k), labels)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title, fontsize="medium")
    fig.tight_layout()
    return _save(fig, path)

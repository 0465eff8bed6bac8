"""The baseline proposers of the thesis's comparison: a fixed grid and uniform random points.

They share the optimiser's ``ask(pending)`` / ``tell(x, y)`` protocol, so the round searcher
drives them exactly as it drives Bayesian optimisation. Pure numpy.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from tune_gamma.bo.space import SearchSpace


class Proposer(Protocol):
    """What a round searcher needs from a proposal strategy."""

    def ask(self, pending: np.ndarray | None = None) -> np.ndarray: ...

    def tell(self, x: np.ndarray, y: float) -> None: ...


def grid_points(space: SearchSpace, points: int) -> np.ndarray:
    """A full-factorial grid of about ``points`` points over the box, shape ``(n, d)``.

    Each dimension gets ``round(points ** (1/d))`` levels evenly spaced in the unit cube
    (so log dimensions are log-spaced), excluding the lower edge as the thesis's grid over
    (0, 0.5] does: level k of m is ``k/m`` for k = 1..m. One dimension gets exactly ``points``.
    """
    if points < 1:
        raise ValueError(f"grid points must be >= 1, got {points!r}")
    per_dim = max(1, round(points ** (1.0 / space.ndim)))
    levels = np.arange(1, per_dim + 1) / per_dim
    mesh = np.meshgrid(*([levels] * space.ndim), indexing="ij")
    unit = np.stack([m.reshape(-1) for m in mesh], axis=-1)
    return space.from_unit(unit)


class GridProposer:
    """Proposes the grid's points in order, then starts over."""

    def __init__(self, space: SearchSpace, points: int) -> None:
        self.points = grid_points(space, points)
        self._next = 0

    def __len__(self) -> int:
        return len(self.points)

    def ask(self, pending: np.ndarray | None = None) -> np.ndarray:
        point = self.points[self._next % len(self.points)]
        self._next += 1
        return point.copy()

    def tell(self, x: np.ndarray, y: float) -> None:
        """A grid ignores what it observes."""


class RandomProposer:
    """Uniform random points in the unit cube (log-uniform on log dimensions)."""

    def __init__(self, space: SearchSpace, seed: int | None = None) -> None:
        self.space = space
        self.rng = np.random.default_rng(seed)

    def ask(self, pending: np.ndarray | None = None) -> np.ndarray:
        return self.space.from_unit(self.rng.random(self.space.ndim))

    def tell(self, x: np.ndarray, y: float) -> None:
        """Random search ignores what it observes."""

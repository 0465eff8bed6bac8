"""Search boxes: named dimensions, each linear or log scale, mapped to the unit cube.

The surrogate always works in [0, 1]^d; users see values in their own units. A log dimension
maps ``u = (ln x - ln low) / (ln high - ln low)``; a linear one ``u = (x - low) / (high - low)``.
Integer and quantised dimensions are rounded on the way out, so every proposal is a value the
trainable can use as it is.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Dimension:
    """One named, bounded dimension of the search box.

    ``q`` quantises values to multiples of ``q`` (Ray's ``quniform``/``qloguniform``);
    ``integer`` rounds to whole numbers (Ray's ``randint``, whose upper bound is exclusive:
    convert it before building the dimension).
    """

    name: str
    low: float
    high: float
    log: bool = False
    integer: bool = False
    q: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError(f"dimension {self.name!r}: bounds must be finite, got "
                             f"low={self.low!r}, high={self.high!r}")
        if not self.low < self.high:
            raise ValueError(f"dimension {self.name!r}: low={self.low!r} must be below "
                             f"high={self.high!r}")
        if self.log and self.low <= 0:
            raise ValueError(f"dimension {self.name!r}: a log-scale dimension needs low > 0, "
                             f"got low={self.low!r}")
        if self.q is not None and not self.q > 0:
            raise ValueError(f"dimension {self.name!r}: quantisation step q={self.q!r} must be > 0")

    def to_unit(self, value: float | np.ndarray) -> np.ndarray:
        """Map values in this dimension's units into [0, 1]."""
        x = np.asarray(value, dtype=float)
        if self.log:
            lo, hi = math.log(self.low), math.log(self.high)
            return (np.log(np.maximum(x, self.low)) - lo) / (hi - lo)
        return (x - self.low) / (self.high - self.low)

    def from_unit(self, u: float | np.ndarray) -> np.ndarray:
        """Map [0, 1] back to this dimension's units, rounded and clipped into the bounds."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        if self.log:
            lo, hi = math.log(self.low), math.log(self.high)
            x = np.exp(lo + u * (hi - lo))
        else:
            x = self.low + u * (self.high - self.low)
        if self.q is not None:
            x = np.round(x / self.q) * self.q
        if self.integer:
            x = np.round(x)
        return np.clip(x, self.low, self.high)


class SearchSpace:
    """An ordered box of :class:`Dimension`; points are arrays of shape ``(d,)`` or ``(n, d)``."""

    def __init__(self, dimensions: Iterable[Dimension]) -> None:
        self.dimensions: tuple[Dimension, ...] = tuple(dimensions)
        if not self.dimensions:
            raise ValueError("a search space needs at least one dimension")
        names = [d.name for d in self.dimensions]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"duplicate dimension names: {duplicated}")

    @classmethod
    def from_bounds(cls, bounds: Sequence[tuple[float, float]], log: Sequence[bool] | None = None
                    ) -> SearchSpace:
        """A space from ``[(low, high), ...]``, dimensions named ``x0, x1, ...``."""
        log = list(log) if log is not None else [False] * len(bounds)
        return cls(Dimension(f"x{i}", float(lo), float(hi), bool(lg))
                   for i, ((lo, hi), lg) in enumerate(zip(bounds, log, strict=True)))

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.dimensions]

    @property
    def ndim(self) -> int:
        return len(self.dimensions)

    def to_unit(self, points: np.ndarray | Sequence[float]) -> np.ndarray:
        """Points in user units, shape ``(d,)`` or ``(n, d)``, to the unit cube (same shape)."""
        x = np.asarray(points, dtype=float)
        cols = [dim.to_unit(x[..., i]) for i, dim in enumerate(self.dimensions)]
        return np.stack(cols, axis=-1)

    def from_unit(self, u: np.ndarray | Sequence[float]) -> np.ndarray:
        """Unit-cube points, shape ``(d,)`` or ``(n, d)``, to user units (rounded, in bounds)."""
        u = np.asarray(u, dtype=float)
        cols = [dim.from_unit(u[..., i]) for i, dim in enumerate(self.dimensions)]
        return np.stack(cols, axis=-1)

    def to_dict(self, point: np.ndarray | Sequence[float]) -> dict[str, float | int]:
        """One point as ``{name: value}``, integers as ``int``."""
        x = np.asarray(point, dtype=float).reshape(-1)
        return {d.name: (int(v) if d.integer else float(v))
                for d, v in zip(self.dimensions, x, strict=True)}

    def from_dict(self, values: Mapping[str, float]) -> np.ndarray:
        """``{name: value}`` to a point of shape ``(d,)``; a missing name is a ``KeyError``."""
        missing = [n for n in self.names if n not in values]
        if missing:
            raise KeyError(f"point lacks dimensions {missing}")
        return np.array([float(values[n]) for n in self.names])

    def contains(self, point: np.ndarray | Sequence[float]) -> bool:
        x = np.asarray(point, dtype=float).reshape(-1)
        return all(d.low <= v <= d.high for d, v in zip(self.dimensions, x, strict=True))

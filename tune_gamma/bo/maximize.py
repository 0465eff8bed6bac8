"""Maximise a function over the unit box: Sobol candidates, then a multi-start polish.

The usual recipe of BoTorch's ``optimize_acqf`` (raw samples → best few → gradient ascent) and
Optuna's ``_gp/optim_mixed.py``, kept small: evaluate ``fun`` on many quasi-random candidates
(a randomly shifted Sobol net) in one vectorised call, polish the best few under box bounds
(``polish.py``: projected BFGS, each start its own problem, one vectorised evaluation per
round), return the best. All randomness comes from the ``numpy.random.Generator`` passed in,
so a seeded generator gives the same answer every time. Results are clipped into ``[0, 1]^d``.

The boundary gets candidates of its own: an acquisition's maximum often lies on the box's
faces, edges or corners (far from the data, where the predictive variance is largest), which
interior Sobol points never reach and a polish from an interior start seldom does. So the
``2^d`` corners join the candidates (while there are at most ``n_candidates`` of them) and, for
``d ≥ 2``, ``n_candidates/8`` of the Sobol points projected onto faces and edges, each onto the
bounds nearest it in a subset of coordinates that cycles through all non-empty subsets
(``experiments/acquisition_boundary.py`` measures what this finds).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from ._threads import single_threaded
from .polish import polish

BOUNDARY_FRACTION = 8  # n_candidates / this many Sobol points are projected onto the boundary


@dataclass(frozen=True)
class MaximizeResult:
    """The maximiser ``x (d,)``, its value, and every point tried sorted best first."""

    x: np.ndarray
    value: float
    candidates: np.ndarray
    values: np.ndarray


@functools.lru_cache(maxsize=32)
def _sobol_net(n: int, dim: int) -> np.ndarray:
    """The first ``n`` points of the unscrambled Sobol sequence (cached, read-only)."""
    from scipy.stats import qmc  # imported on first use: scipy.stats is slow to import

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "balance properties" warning for non powers of two
        net = qmc.Sobol(dim, scramble=False).random(n)
    net.setflags(write=False)
    return net


def sobol_points(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` Sobol points in ``[0, 1)^dim`` under a random Cranley–Patterson shift from ``rng``.

    The shift (``u + s mod 1``) randomises the net while keeping its even spread, and costs
    nothing next to scrambling a fresh engine every call (Owen 1997; L'Ecuyer & Lemieux 2002).
    """
    return (_sobol_net(int(n), int(dim)) + rng.random(int(dim))) % 1.0


@functools.lru_cache(maxsize=32)
def _corners(dim: int) -> np.ndarray:
    """The ``2^dim`` corners of the unit cube (cached, read-only)."""
    codes = np.arange(2**dim)[:, None]
    corners = ((codes >> np.arange(dim)) & 1).astype(float)
    corners.setflags(write=False)
    return corners


def boundary_points(points: np.ndarray, max_corners: int) -> np.ndarray:
    """The box's corners (if at most ``max_corners``) and, for ``d ≥ 2``, each of ``points``
    moved onto the nearest bound in a subset of its coordinates: point ``i`` in the subset
    whose bit mask is ``i mod (2^d − 1) + 1``, so faces, edges and corners all come up."""
    n, dim = points.shape
    parts = [_corners(dim)] if dim < 31 and 2**dim <= max_corners else []
    if dim >= 2 and n:
        bits = min(dim, 30)
        masks = np.arange(n) % (2**bits - 1) + 1
        snap = ((masks[:, None] >> (np.arange(dim) % bits)) & 1).astype(bool)
        parts.append(np.where(snap, np.round(points), points))
    return np.vstack(parts) if parts else np.empty((0, dim))


def _polish_finite_differences(fun: Callable[[np.ndarray], np.ndarray], starts: np.ndarray,
                               maxiter: int) -> np.ndarray:
    """L-BFGS-B on ``fun`` from each start in turn, with finite-difference gradients."""

    def objective(u: np.ndarray) -> float:
        v = float(fun(u[None, :])[0])
        return -v if np.isfinite(v) else 1e300

    out = [optimize.minimize(objective, x0, jac="2-point", method="L-BFGS-B",
                             bounds=[(0.0, 1.0)] * starts.shape[1],
                             options={"maxiter": maxiter}).x for x0 in starts]
    return np.clip(np.array(out), 0.0, 1.0)


@single_threaded
def maximize(fun: Callable[[np.ndarray], np.ndarray], dim: int, rng: np.random.Generator, *,
             value_and_grad: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None,
             n_candidates: int = 1024, n_polish: int = 3, maxiter: int = 50,
             extra_candidates: np.ndarray | None = None,
             boundary: bool = True) -> MaximizeResult:
    """Maximise ``fun`` over ``[0, 1]^dim``.

    ``fun`` maps ``(m, dim)`` to ``(m,)`` (non-finite values rank last). ``value_and_grad``
    maps ``(k, dim)`` to values ``(k,)`` and gradients ``(k, dim)`` for the polish (finite
    differences of ``fun`` when omitted). ``extra_candidates`` (e.g. points near the incumbent)
    join the Sobol candidates, and so do points on the box's boundary unless ``boundary`` is
    false (module docstring). The ``n_polish`` best distinct candidates with finite values are
    polished; a polished point replaces nothing, it is simply one more candidate. ``maxiter``
    bounds the polish: calls of ``value_and_grad`` (the one at the starts included), or
    L-BFGS-B iterations per start for the finite-difference polish.
    """
    cands = sobol_points(n_candidates, dim, rng)
    extras = []
    if extra_candidates is not None and len(extra_candidates):
        extras.append(np.clip(np.atleast_2d(extra_candidates), 0.0, 1.0))
    if boundary:
        extras.append(boundary_points(cands[: n_candidates // BOUNDARY_FRACTION],
                                      max_corners=n_candidates))
    if extras:
        cands = np.vstack([cands, *extras])
    vals = np.asarray(fun(cands), dtype=float)
    vals = np.where(np.isfinite(vals), vals, -np.inf)
    order = np.argsort(-vals, kind="stable")
    starts: list[np.ndarray] = []
    for i in order[: 4 * n_polish]:
        if len(starts) >= n_polish or not np.isfinite(vals[i]):
            break
        # np.allclose(cands[i], t, atol=1e-6) for finite points, without its overhead
        if not any(np.all(np.abs(cands[i] - t) <= 1e-6 + 1e-5 * np.abs(t)) for t in starts):
            starts.append(cands[i])
    if starts:
        S = np.array(starts)
        if value_and_grad is not None:
            result = polish(value_and_grad, S, max_evaluations=maxiter)
            polished, pvals = result.x, result.values
        else:
            polished = _polish_finite_differences(fun, S, maxiter)
            pvals = np.asarray(fun(polished), dtype=float)
        pvals = np.where(np.isfinite(pvals), pvals, -np.inf)
        cands = np.vstack([polished, cands])
        vals = np.concatenate([pvals, vals])
    order = np.argsort(-vals, kind="stable")
    cands, vals = cands[order], vals[order]
    return MaximizeResult(x=cands[0].copy(), value=float(vals[0]), candidates=cands, values=vals)

"""Maximise a function over the unit box: Sobol candidates, then a multi-start polish.

The usual recipe of BoTorch's ``optimize_acqf`` (raw samples → best few → gradient ascent) and
Optuna's ``_gp/optim_mixed.py``, kept small: evaluate ``fun`` on many quasi-random candidates
(a randomly shifted Sobol net) in one vectorised call, polish the best few under box bounds
(``polish.py``: projected BFGS, each start its own problem, one vectorised evaluation per
round), return the best. All randomness comes from the ``numpy.random.Generator`` passed in,
so a seeded generator gives the same answer every time. Results are clipped into ``[0, 1]^d``.
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
             extra_candidates: np.ndarray | None = None) -> MaximizeResult:
    """Maximise ``fun`` over ``[0, 1]^dim``.

    ``fun`` maps ``(m, dim)`` to ``(m,)`` (non-finite values rank last). ``value_and_grad``
    maps ``(k, dim)`` to values ``(k,)`` and gradients ``(k, dim)`` for the polish (finite
    differences of ``fun`` when omitted). ``extra_candidates`` (e.g. points near the incumbent)
    join the Sobol candidates. The ``n_polish`` best distinct candidates with finite values are
    polished; a polished point replaces nothing, it is simply one more candidate. ``maxiter``
    bounds the polish: calls of ``value_and_grad`` (the one at the starts included), or
    L-BFGS-B iterations per start for the finite-difference polish.
    """
    cands = sobol_points(n_candidates, dim, rng)
    if extra_candidates is not None and len(extra_candidates):
        cands = np.vstack([cands, np.clip(np.atleast_2d(extra_candidates), 0.0, 1.0)])
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

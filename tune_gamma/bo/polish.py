"""Maximise a smooth function from several starts at once in the unit box: projected BFGS.

Each start is its own problem with its own quasi-Newton matrix, step length and stopping test;
they advance in lock step so that every round costs ONE vectorised evaluation of all starts
still running. That is the point of the module: an acquisition's value and gradient at ``k``
points cost about as much as at one, while SciPy's L-BFGS-B takes one problem at a time (so
batching there means one coupled problem ``Σ_i f(x_i)`` with one shared line search, which
stalls the starts on each other; Optuna's ``_gp/batched_lbfgsb.py`` keeps them apart too).
The bookkeeping is in plain Python floats: for a few starts in a few dimensions numpy's cost
per call would exceed the arithmetic.

The method, per start (minimising ``φ = −f``), is the projected quasi-Newton method for box
constraints of Bertsekas (1982) with the BFGS inverse update (Nocedal & Wright 2006, eq. 6.17):

- free variables: those not at a bound that the gradient pushes against;
- direction ``p = −H_F ∇φ`` on the free ones (``H`` restricted to them), ``−∇φ`` if that is
  not a descent direction (then ``H`` restarts);
- step ``x(α) = clip(x + αp, 0, 1)``, accepted on the Armijo test
  ``φ(x(α)) ≤ φ(x) + c₁·∇φ·(x(α) − x)``, else ``α`` shrinks by a safeguarded quadratic fit;
- first steps are at most ``MAX_STEP`` long in the max norm, and ``H`` is scaled by
  ``sᵀy/yᵀy`` before its first update (Nocedal & Wright eq. 6.20);
- a start stops once an accepted step gains less than ``ftol`` relatively (L-BFGS-B's test),
  its projected gradient is under ``gtol``, or its step vanishes.

Non-finite values are rejected steps, so a start never moves onto one.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

ValueAndGrad = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]

ARMIJO_C1 = 1e-4
MAX_STEP = 0.25  # of the unit box, max norm, while H is the identity
_MIN_STEP = 1e-10  # max-norm step under which a start has stopped moving
_CURVATURE_EPS = 1e-12
# A start stops once a step improves the (log-scale) objective by less than this, relatively:
# a smaller gain moves the proposal by a negligible amount (L-BFGS-B's default is 2.2e-9).
POLISH_FTOL = 1e-6


@dataclass(frozen=True)
class PolishResult:
    """Polished points ``(k, d)`` in ``[0, 1]^d``, their values ``(k,)``, and the number of
    vectorised evaluations used (the starts' own included)."""

    x: np.ndarray
    values: np.ndarray
    evaluations: int


def _evaluate(value_and_grad: ValueAndGrad, X: np.ndarray
              ) -> tuple[list[float], list[list[float]]]:
    """``φ = −f`` and ``∇φ`` at the rows of ``X`` as Python floats; a non-finite value or
    gradient gives ``φ = +inf``."""
    values, grads = value_and_grad(X)
    phi = (-np.asarray(values, dtype=float)).reshape(X.shape[0]).tolist()
    grad = (-np.asarray(grads, dtype=float)).reshape(X.shape).tolist()
    for i, (v, g) in enumerate(zip(phi, grad, strict=True)):
        if not (math.isfinite(v) and all(map(math.isfinite, g))):
            phi[i], grad[i] = math.inf, [0.0] * len(g)
    return phi, grad


def _dot(a: list[float], b: list[float]) -> float:
    return sum(map(operator.mul, a, b))


class _BoxBFGS:
    """One start's projected BFGS state, minimising ``φ``, in plain Python floats: the
    problems are a few dimensions, where each numpy call would cost more than its arithmetic."""

    def __init__(self, x: list[float], phi: float, grad: list[float], gtol: float) -> None:
        self.x, self.phi, self.grad = x, phi, grad
        self.H = _identity(len(x))
        self.scaled = False  # H rescaled by sᵀy/yᵀy yet
        self.direction = [0.0] * len(x)
        self.alpha = 0.0
        self.running = math.isfinite(phi)
        if self.running:
            self._new_direction(gtol)

    def trial(self) -> list[float]:
        """``x(α) = clip(x + αp, 0, 1)``."""
        a = self.alpha
        return [min(1.0, max(0.0, x + a * p)) for x, p in zip(self.x, self.direction, strict=True)]

    def _new_direction(self, gtol: float) -> None:
        # held: at 0 with ∂φ > 0 or at 1 with ∂φ < 0; the rest are free
        grad = [0.0 if (x <= 0.0 and g > 0.0) or (x >= 1.0 and g < 0.0) else g
                for x, g in zip(self.x, self.grad, strict=True)]
        if max(abs(g) for g in grad) <= gtol:
            self.running = False
            return
        p = [-_dot(row, grad) if g != 0.0 else 0.0 for row, g in zip(self.H, grad, strict=True)]
        if _dot(p, grad) >= 0.0:  # not a descent direction: restart from the gradient
            self.H, self.scaled = _identity(len(p)), False
            p = [-g for g in grad]
        self.direction = p
        self.alpha = 1.0 if self.scaled else min(1.0, MAX_STEP / max(abs(v) for v in p))

    def _update(self, s: list[float], y: list[float], sy: float) -> None:
        """BFGS: ``H ← (I − ρsyᵀ)H(I − ρysᵀ) + ρssᵀ``, ``ρ = 1/sᵀy``."""
        if not self.scaled:
            gamma = sy / _dot(y, y)
            self.H = [[gamma * v for v in row] for row in _identity(len(s))]
            self.scaled = True
        rho = 1.0 / sy
        Hy = [_dot(row, y) for row in self.H]
        c = rho + rho * rho * _dot(y, Hy)
        self.H = [[h + c * si * sj - rho * (si * hyj + hyi * sj)
                   for h, sj, hyj in zip(row, s, Hy, strict=True)]
                  for row, si, hyi in zip(self.H, s, Hy, strict=True)]

    def step_to(self, x: list[float], phi: float, grad: list[float], ftol: float,
                gtol: float) -> None:
        """Take the trial point ``x`` (value ``φ``, gradient) on the Armijo test, or shrink
        the step by a safeguarded quadratic fit along the segment."""
        s = [a - b for a, b in zip(x, self.x, strict=True)]
        slope = _dot(self.grad, s)
        if phi <= self.phi + ARMIJO_C1 * slope:
            y = [a - b for a, b in zip(grad, self.grad, strict=True)]
            sy = _dot(s, y)
            if sy > _CURVATURE_EPS:
                self._update(s, y, sy)
            small_gain = self.phi - phi <= ftol * max(abs(self.phi), abs(phi), 1.0)
            self.x, self.phi, self.grad = x, phi, grad
            if small_gain:
                self.running = False
            else:
                self._new_direction(gtol)
            return
        curvature = phi - self.phi - slope
        t = -slope / (2.0 * curvature) if math.isfinite(curvature) and curvature > 0.0 else 0.1
        self.alpha *= min(0.5, max(0.1, t))
        if self.alpha * max(abs(v) for v in self.direction) < _MIN_STEP:
            self.running = False


def _identity(d: int) -> list[list[float]]:
    return [[1.0 if i == j else 0.0 for j in range(d)] for i in range(d)]


def polish(value_and_grad: ValueAndGrad, starts: np.ndarray, *, max_evaluations: int = 15,
           ftol: float = POLISH_FTOL, gtol: float = 1e-5) -> PolishResult:
    """Maximise ``f`` from each row of ``starts (k, d)`` within ``[0, 1]^d``.

    ``value_and_grad`` maps ``(m, d)`` to ``f (m,)`` and ``∇f (m, d)``; it is called on the
    starts still running, at most ``max_evaluations`` times, the first at the starts. A start
    whose value is not finite does not move.
    """
    X = np.clip(np.array(starts, dtype=float, ndmin=2), 0.0, 1.0)
    phi, grad = _evaluate(value_and_grad, X)
    problems = [_BoxBFGS(x, v, g, gtol) for x, v, g in zip(X.tolist(), phi, grad, strict=True)]
    evaluations = 1
    while evaluations < max_evaluations:
        running = [p for p in problems if p.running]
        if not running:
            break
        trials = [p.trial() for p in running]
        phi, grad = _evaluate(value_and_grad, np.array(trials))
        evaluations += 1
        for problem, x, v, g in zip(running, trials, phi, grad, strict=True):
            problem.step_to(x, v, g, ftol, gtol)
    return PolishResult(x=np.array([p.x for p in problems]),
                        values=-np.array([p.phi for p in problems]), evaluations=evaluations)

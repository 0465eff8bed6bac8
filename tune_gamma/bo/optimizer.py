"""Ask/tell Bayesian optimisation over a :class:`SearchSpace`, Gaussian or Gamma-precision.

One class drives both variants; the only difference is the GP's predictive (``gp.py``) and so
the EI formula (``acquisition.py``). Conventions, in one place:

- **Direction.** Internally everything is maximised; ``mode="min"`` negates ``y`` on the way in
  (:meth:`tell`) and on the way out (:meth:`best`, :meth:`predict`) through ``self._sign``.
- **Failures.** A NaN or ±inf ``y`` is never the incumbent. While fewer than two finite values
  exist such points are held back from the GP (it is not fitted anyway); afterwards each counts
  as the WORST finite value observed so far (re-evaluated as that changes), so the surrogate
  learns to avoid the region without being poisoned by an infinite or missing value.
- **Phases.** ``initial_points`` are asked first, in order (all of them, even if more than
  ``n_initial``). Then, while ``n_observations + len(pending) < n_initial`` or fewer than two
  finite values exist, proposals are seeded uniform random points. After that, EI is maximised.
- **EI.** On the standardised scale: ``f*`` is the largest posterior mean at the observed
  points (equal to the best observation for noise-free data, robust to noise), and ``ξ`` is in
  units of the standard deviation of the observed ``y``.
- **Pending points.** Fantasies: ``kriging_believer`` observes the posterior mean there,
  ``constant_liar`` the worst observed value; they are conditioned on without refitting the
  hyperparameters or re-standardising, and otherwise count as observations (in ``a_n``, ``b_n``
  and ``f*``). A proposal that coincides with a pending point is replaced by the next best
  candidate.
- **Refits.** Kernel hyperparameters are refitted (MAP, ``gp.fit``) after every tell while the
  GP has at most ``REFIT_EVERY_TELL_UNTIL`` points, then only once the data have grown by
  ``REFIT_GROWTH`` (15 %) since the last fit. In between, the Cholesky factor is extended in
  ``O(n²)`` per new point and the precision posterior ``(a_n, b_n)`` / amplitude is updated
  exactly. Refits happen inside :meth:`tell`, with a generator derived from the seed and ``n``,
  so proposals do not depend on whether :meth:`predict` or :meth:`acquisition` were called.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from ._threads import single_threaded
from .acquisition import LogExpectedImprovement, expected_improvement, student_t_ei
from .gp import PREDICTIVES, GaussianProcess, Predictive
from .kernels import KERNELS
from .maximize import maximize
from .space import SearchSpace

FANTASIES = ("kriging_believer", "constant_liar")
MODES = ("max", "min")

# Gamma(a0, b0) prior on the precision of the standardised signal, chosen on the 1-D
# benchmark (experiments/sin_demo.py) with one setting for all its functions.
DEFAULT_PRIOR_SHAPE = 1.0
DEFAULT_PRIOR_RATE = 2.0

REFIT_EVERY_TELL_UNTIL = 20
REFIT_GROWTH = 1.15
_LOCAL_FRACTION = 8  # 1/8 as many Gaussian perturbations of the incumbent as Sobol candidates
_LOCAL_SD = 0.05


def _candidate_budget(n: int, d: int) -> tuple[int, int, int]:
    """``(n_candidates, n_polish, maxiter)`` for one ask(): ``128·(d + 1)`` Sobol points (at
    most 2048) while ``n ≤ 200``, then fewer in proportion to ``200/n`` (each candidate costs
    ``O(n²)``), never under 64; the best two polished, each on its own, within 10 vectorised
    evaluations of the acquisition and its gradient (``polish.py``)."""
    m = int(np.clip(128 * (d + 1), 256, 2048))
    if n > 200:
        m = 2 ** int(np.round(np.log2(max(64.0, m * 200.0 / n))))
    return m, 2, 10


class BayesianOptimizer:
    """Bayesian optimisation with a GP surrogate and (Student-t or Gaussian) expected improvement.

    ``predictive="gamma"`` puts a Gamma(``prior_shape``, ``prior_rate``) prior on the signal
    precision, so the predictive is Student-t and EI is the Student-t EI (Shah, Wilson &
    Ghahramani 2014); ``"gaussian"`` is the classic GP-EI. Points are in user units
    (``space``); the surrogate works in the unit cube. The object pickles with its RNG, and the
    same seed with the same calls gives the same proposals.
    """

    def __init__(self, space: SearchSpace, predictive: str = "gamma", *, n_initial: int = 2,
                 xi: float = 0.01, kernel: str = "matern52",
                 prior_shape: float = DEFAULT_PRIOR_SHAPE,
                 prior_rate: float = DEFAULT_PRIOR_RATE,
                 fantasy: str = "kriging_believer",
                 initial_points: Sequence[Sequence[float]] | None = None,
                 mode: str = "max", seed: int | None = None) -> None:
        if not isinstance(space, SearchSpace):
            raise ValueError(f"space must be a SearchSpace, got {type(space).__name__}")
        if predictive not in PREDICTIVES:
            raise ValueError(f"unknown predictive {predictive!r}; expected one of {PREDICTIVES}")
        if kernel not in KERNELS:
            raise ValueError(f"unknown kernel {kernel!r}; expected one of {sorted(KERNELS)}")
        if fantasy not in FANTASIES:
            raise ValueError(f"unknown fantasy {fantasy!r}; expected one of {FANTASIES}")
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; expected one of {MODES}")
        if not (isinstance(xi, numbers.Real) and math.isfinite(xi) and xi >= 0):
            raise ValueError(f"xi must be a finite number >= 0, got xi={xi!r}")
        if not (isinstance(prior_shape, numbers.Real) and math.isfinite(prior_shape)
                and prior_shape > 0):
            raise ValueError(f"prior_shape must be > 0, got prior_shape={prior_shape!r}")
        if not (isinstance(prior_rate, numbers.Real) and math.isfinite(prior_rate)
                and prior_rate > 0):
            raise ValueError(f"prior_rate must be > 0, got prior_rate={prior_rate!r}")
        if not (isinstance(n_initial, numbers.Integral) and not isinstance(n_initial, bool)
                and n_initial >= 0):
            raise ValueError(f"n_initial must be an integer >= 0, got n_initial={n_initial!r}")
        self.space = space
        self.predictive = predictive
        self.n_initial = int(n_initial)
        self.xi = float(xi)
        self.kernel = kernel
        self.fantasy = fantasy
        self.mode = mode
        self._sign = 1.0 if mode == "max" else -1.0
        self._initial = [self._check_point(p, "initial point") for p in (initial_points or [])]
        for p in self._initial:
            if not space.contains(p):
                raise ValueError(f"initial point {p.tolist()} lies outside the search space")
        # integer / quantised coordinates are rounded as the space rounds proposals; continuous
        # ones are kept exactly as given
        discrete = np.array([d.integer or d.q is not None for d in space.dimensions])
        self._initial = [np.where(discrete, space.from_unit(space.to_unit(p)), p)
                         for p in self._initial]
        self._rng = np.random.default_rng(seed)
        self._fit_seed = int(self._rng.integers(2**63 - 1))
        d = space.ndim
        self._U = np.empty((0, d))  # observed points, unit cube
        self._X = np.empty((0, d))  # observed points, user units (as told)
        self._y = np.empty(0)  # observed values, internal (maximised) sign, may be non-finite
        self._n_asked = 0
        self._gp = GaussianProcess(kernel, predictive, prior_shape, prior_rate)
        self._n_last_fit = 0
        self._model_ready = False

    # ------------------------------------------------------------------ helpers

    def _check_point(self, point: Sequence[float] | np.ndarray, what: str = "point") -> np.ndarray:
        x = np.asarray(point, dtype=float).reshape(-1)
        if x.shape[0] != self.space.ndim:
            raise ValueError(f"{what} {x.tolist()} has dimension {x.shape[0]}, "
                             f"expected {self.space.ndim}")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{what} {x.tolist()} has non-finite coordinates")
        return x

    def _check_points(self, points: np.ndarray | None, what: str) -> np.ndarray:
        if points is None:
            return np.empty((0, self.space.ndim))
        p = np.asarray(points, dtype=float)
        if p.size == 0:
            return np.empty((0, self.space.ndim))
        p = np.atleast_2d(p)
        if p.ndim != 2 or p.shape[1] != self.space.ndim:
            raise ValueError(f"{what} has shape {p.shape}, expected (k, {self.space.ndim})")
        if not np.all(np.isfinite(p)):
            raise ValueError(f"{what} has non-finite coordinates")
        return p

    def _to_internal(self, y: float) -> float:
        """The one sign flip: user ``y`` → maximised internal value (and back, it is its own
        inverse)."""
        return self._sign * y

    _to_user = _to_internal

    @property
    def n_observations(self) -> int:
        """Number of ``tell`` calls so far (failed evaluations included)."""
        return int(self._y.shape[0])

    @property
    def n_finite(self) -> int:
        """Number of observations with a finite value."""
        return int(np.sum(np.isfinite(self._y)))

    @property
    def has_model(self) -> bool:
        """Whether a surrogate exists (at least two finite observations); needed by
        :meth:`predict` and :meth:`acquisition`."""
        return self._model_ready

    # ------------------------------------------------------------------ tell

    @single_threaded
    def tell(self, x: Sequence[float] | np.ndarray, y: float) -> None:
        """Record ``f(x) = y`` (user units). ``y`` may be NaN or ±inf (a failed evaluation)."""
        x = self._check_point(x)
        y = float(y)
        self._U = np.vstack([self._U, self.space.to_unit(x)])
        self._X = np.vstack([self._X, x])
        self._y = np.append(self._y, self._to_internal(y) if math.isfinite(y) else math.nan)
        self._update_model()

    def _training_targets(self) -> np.ndarray:
        finite = np.isfinite(self._y)
        return np.where(finite, self._y, np.min(self._y[finite]))

    def _update_model(self) -> None:
        if self.n_finite < 2:
            self._model_ready = False
            return
        n = self.n_observations
        self._gp.set_data(self._U, self._training_targets())
        if n <= REFIT_EVERY_TELL_UNTIL or n >= math.ceil(REFIT_GROWTH * self._n_last_fit):
            # restarts while the likelihood surface is rough; later a warm start suffices
            n_restarts = 2 if n <= 100 else 0
            self._gp.fit(np.random.default_rng([self._fit_seed, n]), n_restarts=n_restarts,
                         maxiter=200 if n <= 100 else 50)
            self._n_last_fit = n
        self._model_ready = True

    # ------------------------------------------------------------------ ask

    def _random_point(self) -> np.ndarray:
        return self.space.from_unit(self._rng.random(self.space.ndim))

    def _incumbent(self, gp: GaussianProcess) -> float:
        """``f*`` = max posterior mean at the GP's points (standardised): ``μ(X) = y − η·α``."""
        return float(np.max(gp.ys - gp.noise * gp._alpha))

    def _conditioned_gp(self, pending: np.ndarray) -> GaussianProcess:
        if pending.shape[0] == 0:
            return self._gp
        U = self.space.to_unit(pending)
        if self.fantasy == "kriging_believer":
            values = self._gp.predict(U).mean
        else:
            values = np.full(U.shape[0], float(np.min(self._gp.ys)))
        return self._gp.condition_on(U, values)

    def _is_new(self, x: np.ndarray, taken: np.ndarray) -> bool:
        if taken.shape[0] == 0:
            return True
        u, ut = self.space.to_unit(x), self.space.to_unit(taken)
        same = np.all(np.abs(ut - u) <= 1e-9, axis=1) | np.all(taken == x, axis=1)
        return not bool(np.any(same))

    @single_threaded
    def ask(self, pending: np.ndarray | None = None) -> np.ndarray:
        """Propose one point ``(d,)`` in user units, inside the bounds and already rounded.

        ``pending`` ``(k, d)``: points being evaluated now; they become fantasies, so the
        proposal differs from each of them.
        """
        pending = self._check_points(pending, "pending")
        index = self._n_asked
        self._n_asked += 1
        if index < len(self._initial):
            return self._initial[index].copy()
        if (self.n_observations + pending.shape[0] < self.n_initial
                or not self._model_ready):
            return self._random_point()
        gp = self._conditioned_gp(pending)
        acq = LogExpectedImprovement(gp, self._incumbent(gp), self.xi)
        n_cand, n_polish, maxiter = _candidate_budget(gp.n, self.space.ndim)
        u_inc = self._U[int(np.nanargmax(self._y))]
        local = np.clip(u_inc + _LOCAL_SD * self._rng.standard_normal(
            (n_cand // _LOCAL_FRACTION, self.space.ndim)), 0.0, 1.0)
        result = maximize(acq, self.space.ndim, self._rng, value_and_grad=acq.value_and_grad,
                          n_candidates=n_cand, n_polish=n_polish, maxiter=maxiter,
                          extra_candidates=local)
        for u in result.candidates:
            x = self.space.from_unit(u)
            if self._is_new(x, pending):
                return x
        return self._random_point()

    def ask_batch(self, n: int, pending: np.ndarray | None = None) -> np.ndarray:
        """``n`` distinct proposals ``(n, d)``: each one is a fantasy for the next."""
        if not (isinstance(n, (int, np.integer)) and n >= 0):
            raise ValueError(f"n must be an integer >= 0, got n={n!r}")
        taken = self._check_points(pending, "pending")
        out = np.empty((0, self.space.ndim))
        for _ in range(int(n)):
            x = self.ask(np.vstack([taken, out]))
            out = np.vstack([out, x])
        return out

    # ------------------------------------------------------------------ reports

    def best(self) -> tuple[np.ndarray, float] | None:
        """The best finite observation ``(x, y)`` in user units and original sign, or None."""
        if self.n_finite == 0:
            return None
        i = int(np.nanargmax(self._y))
        return self._X[i].copy(), float(self._to_user(self._y[i]))

    def _require_model(self) -> None:
        if not self._model_ready:
            raise RuntimeError("the surrogate needs at least two finite observations "
                               f"(have {self.n_finite}); check has_model first")

    @single_threaded
    def predict(self, x: np.ndarray) -> Predictive:
        """Predictive of the latent objective at ``x (m, d)`` (user units), original ``y`` units.

        ``mean`` and ``scale`` (std for gaussian, Student-t scale for gamma) have shape
        ``(m,)``; ``dof`` is ``None`` for the Gaussian predictive.
        """
        self._require_model()
        x = self._check_points(x, "x")
        pred = self._gp.predict(self.space.to_unit(x))
        mean = self._to_user(self._gp.unstandardise(pred.mean))
        return Predictive(np.asarray(mean), pred.scale * self._gp.y_scale, pred.dof)

    @single_threaded
    def acquisition(self, x: np.ndarray) -> np.ndarray:
        """EI at ``x (m, d)`` (user units) in original ``y`` units, as :meth:`ask` sees it
        without pending points (for plots)."""
        self._require_model()
        x = self._check_points(x, "x")
        pred = self._gp.predict(self.space.to_unit(x))
        best = self._incumbent(self._gp)
        if pred.dof is None:
            ei = expected_improvement(pred.mean, pred.scale, best, self.xi)
        else:
            ei = student_t_ei(pred.mean, pred.scale, pred.dof, best, self.xi)
        return ei * self._gp.y_scale

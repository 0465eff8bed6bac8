"""Gaussian-process surrogate on unit-cube inputs, with a Gaussian or a Gamma-precision predictive.

Model (outputs standardised to zero mean, unit variance; ``K = k(X, X) + ηI`` with a
unit-amplitude kernel and a relative noise variance ``η``)::

    y | τ ~ N(0, K / τ)          τ = signal precision

- ``predictive="gaussian"``: ``1/τ`` is its maximum-likelihood value ``q/n`` with
  ``q = yᵀK⁻¹y`` (the amplitude profiled out). Predictive of the latent ``f(x)``:
  ``N(μ(x), (q/n)·v(x))``.
- ``predictive="gamma"``: ``τ ~ Gamma(a0, b0)`` (shape, rate), conjugate, so
  ``a_n = a0 + n/2``, ``b_n = b0 + q/2`` and the predictive of ``f(x)`` is Student-t with
  ``ν = 2a_n``, location ``μ(x)`` and squared scale ``s²(x) = (b_n/a_n)·v(x)``.

with ``μ(x) = k(x)ᵀK⁻¹y`` and ``v(x) = k(x, x) − k(x)ᵀK⁻¹k(x)``. Both predict the LATENT
function (no observation noise added), which is what EI needs; add ``c·η`` to the squared scale
for a noisy observation. References: Rasmussen & Williams (2006) §2.2 and §5.4; Shah, Wilson &
Ghahramani (AISTATS 2014) for the Student-t process; Bishop, PRML §2.3.6 for the Normal–Gamma
update. The thesis behind tune_gamma (Kim & Chung 2019) lost its equations in extraction; this
model is our reconstruction of its prose ("a Gamma(a0, b0) conjugate prior on the precision").

Kernel hyperparameters θ = (log ℓ_1..d, log η) are fitted by MAP with L-BFGS-B:

- Gaussian: the profile log likelihood ``−(n/2)·log(2πq/n) − ½·log|K| − n/2``.
- Gamma: the Student-t marginal likelihood with τ integrated out,
  ``log Γ(a_n) − log Γ(a0) + a0·log b0 − a_n·log b_n − ½·log|K| − (n/2)·log 2π``
  (its gradient has the same form as the Gaussian one with weight ``a_n/b_n`` instead of ``n/q``).

plus weak priors: ``log ℓ ~ N(log 0.25, 1)`` per dimension (in the unit cube) and
``(1.1 − 1)·log η − 30·η`` on the noise (Optuna's ``_gp/prior.py`` noise prior), inside bounds
ℓ ∈ [0.01, 10], η ∈ [1e-6, 10] that keep ``K`` well conditioned. The Cholesky factor of ``K``
is cached and extended block-wise when points are appended with unchanged hyperparameters.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize, special
from scipy.linalg import lapack

from ._threads import single_threaded
from .kernels import Kernel, get_kernel

PREDICTIVES = ("gamma", "gaussian")

DEFAULT_LENGTHSCALE_BOUNDS = (0.01, 10.0)
DEFAULT_NOISE_BOUNDS = (1e-6, 10.0)
# log ℓ ~ N(LOC, SD²): median ℓ = 0.25 of the unit cube, 95 % mass in [0.035, 1.8].
LENGTHSCALE_PRIOR_LOC = math.log(0.25)
LENGTHSCALE_PRIOR_SD = 1.0
# (conc − 1)·log η − rate·η, Optuna's noise prior (Gamma(1.1, 30) up to its normaliser).
NOISE_PRIOR_CONC = 1.1
NOISE_PRIOR_RATE = 30.0
DEFAULT_NOISE = 1e-4
_MIN_SIGNAL_VARIANCE = 1e-12
_MIN_VARIANCE = 1e-15


@dataclass(frozen=True)
class Predictive:
    """A predictive distribution at ``m`` points: Gaussian (``dof is None``) or Student-t.

    ``scale`` is the standard deviation for a Gaussian and the scale ``s`` for a Student-t
    (whose standard deviation is ``s·√(ν/(ν − 2))`` for ``ν > 2``).
    """

    mean: np.ndarray
    scale: np.ndarray
    dof: float | None


def _cholesky(K: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor (Fortran order, for LAPACK), with growing jitter only if ``K`` is
    numerically not positive definite."""
    L, info = lapack.dpotrf(K, lower=1, clean=1)
    if info == 0:
        return L
    base = float(np.mean(np.diag(K))) if K.size else 1.0
    for exponent in range(-10, 0):
        L, info = lapack.dpotrf(K + (base * 10.0**exponent) * np.eye(K.shape[0]), lower=1,
                                clean=1)
        if info == 0:
            return L
    raise linalg.LinAlgError("kernel matrix is not positive definite even with jitter")


def _solve_lower(L: np.ndarray, B: np.ndarray, transpose: bool = False) -> np.ndarray:
    """``L⁻¹B`` (or ``L⁻ᵀB``) for lower-triangular ``L``; LAPACK ``dtrtrs`` without SciPy's
    validation overhead, which dominates for the small solves of the acquisition polish."""
    x, info = lapack.dtrtrs(L, B, lower=1, trans=1 if transpose else 0)
    if info != 0:
        raise linalg.LinAlgError(f"singular triangular factor (dtrtrs info={info})")
    return x


def _extend_cholesky(L: np.ndarray, K12: np.ndarray, K22: np.ndarray) -> np.ndarray:
    """Cholesky of ``[[K11, K12], [K12ᵀ, K22]]`` from ``L = chol(K11)`` in ``O(n²k)``."""
    n, k = L.shape[0], K22.shape[0]
    L21T = _solve_lower(L, K12)
    L22 = _cholesky(K22 - L21T.T @ L21T)
    out = np.zeros((n + k, n + k), order="F")
    out[:n, :n] = L
    out[n:, :n] = L21T.T
    out[n:, n:] = L22
    return out


class GaussianProcess:
    """A GP over ``[0, 1]^d`` with standardised outputs; see the module docstring for the math.

    Typical use: ``set_data(U, y)``, ``fit(rng)`` (hyperparameters), then ``predict(U*)``.
    """

    def __init__(self, kernel: str | Kernel = "matern52", predictive: str = "gamma",
                 prior_shape: float = 1.0, prior_rate: float = 1.0, *,
                 lengthscale_bounds: tuple[float, float] = DEFAULT_LENGTHSCALE_BOUNDS,
                 noise_bounds: tuple[float, float] = DEFAULT_NOISE_BOUNDS) -> None:
        if predictive not in PREDICTIVES:
            raise ValueError(f"unknown predictive {predictive!r}; expected one of {PREDICTIVES}")
        if not prior_shape > 0:
            raise ValueError(f"prior_shape must be > 0, got {prior_shape!r}")
        if not prior_rate > 0:
            raise ValueError(f"prior_rate must be > 0, got {prior_rate!r}")
        self.kernel = get_kernel(kernel) if isinstance(kernel, str) else kernel
        self.predictive = predictive
        self.prior_shape = float(prior_shape)
        self.prior_rate = float(prior_rate)
        self.lengthscale_bounds = (float(lengthscale_bounds[0]), float(lengthscale_bounds[1]))
        self.noise_bounds = (float(noise_bounds[0]), float(noise_bounds[1]))
        self.lengthscales: np.ndarray | None = None
        self.noise = DEFAULT_NOISE
        self.X = np.empty((0, 0))
        self.y = np.empty(0)  # raw (unstandardised) targets of the data set by set_data
        self.y_mean = 0.0
        self.y_scale = 1.0
        self.ys = np.empty(0)  # standardised targets (fantasies appended by condition_on)
        self._L: np.ndarray | None = None
        self._alpha = np.empty(0)
        self._q = 0.0

    # ------------------------------------------------------------------ data and factorisation

    @property
    def n(self) -> int:
        return int(self.ys.shape[0])

    @property
    def theta(self) -> np.ndarray:
        """Hyperparameters ``(log ℓ_1..d, log η)``."""
        assert self.lengthscales is not None
        return np.append(np.log(self.lengthscales), math.log(self.noise))

    def _default_theta(self, d: int) -> np.ndarray:
        lo, hi = np.log(self.lengthscale_bounds)
        ell = np.clip(LENGTHSCALE_PRIOR_LOC, lo, hi)
        return np.append(np.full(d, ell), math.log(np.clip(DEFAULT_NOISE, *self.noise_bounds)))

    def _set_theta(self, theta: np.ndarray) -> None:
        self.lengthscales = np.exp(np.asarray(theta[:-1], dtype=float))
        self.noise = float(np.exp(theta[-1]))

    def _kernel_matrix(self, X: np.ndarray) -> np.ndarray:
        assert self.lengthscales is not None
        K = self.kernel(X, X, self.lengthscales)
        K[np.diag_indices_from(K)] += self.noise
        return K

    def set_data(self, X: np.ndarray, y: np.ndarray) -> None:
        """Use ``X (n, d)`` in the unit cube and finite ``y (n,)``; refresh the cached factor.

        When the old inputs are a prefix of ``X`` (points were appended) the Cholesky factor is
        extended in ``O(n²k)``; otherwise it is recomputed. The standardisation (mean, std of
        ``y``) is recomputed each time, which only needs two triangular solves.
        """
        X = np.atleast_2d(np.asarray(X, dtype=float))
        y = np.asarray(y, dtype=float).reshape(-1)
        if X.shape[0] != y.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} values")
        if not np.all(np.isfinite(y)):
            raise ValueError("y must be finite; substitute failed evaluations before set_data")
        if self.lengthscales is None or self.lengthscales.shape[0] != X.shape[1]:
            self._set_theta(self._default_theta(X.shape[1]))
            self._L = None
        n_old = self.X.shape[0]
        if (self._L is not None and self._L.shape[0] == n_old and 0 < n_old <= X.shape[0]
                and self.X.shape[1] == X.shape[1] and np.array_equal(self.X, X[:n_old])):
            if X.shape[0] > n_old:
                assert self.lengthscales is not None
                new = X[n_old:]
                K12 = self.kernel(self.X, new, self.lengthscales)
                self._L = _extend_cholesky(self._L, K12, self._kernel_matrix(new))
        else:
            self._L = _cholesky(self._kernel_matrix(X)) if X.shape[0] else None
        self.X = X
        self.y = y
        self.y_mean = float(np.mean(y)) if y.size else 0.0
        std = float(np.std(y)) if y.size > 1 else 0.0
        self.y_scale = std if std > 1e-12 * max(1.0, abs(self.y_mean)) else 1.0
        self.ys = (y - self.y_mean) / self.y_scale
        self._solve()

    def _solve(self) -> None:
        if self._L is None:
            self._alpha, self._q = np.empty(0), 0.0
            return
        w = _solve_lower(self._L, self.ys)
        self._q = float(w @ w)
        self._alpha = _solve_lower(self._L, w, transpose=True)

    def standardise(self, y: np.ndarray | float) -> np.ndarray:
        return (np.asarray(y, dtype=float) - self.y_mean) / self.y_scale

    def unstandardise(self, ys: np.ndarray | float) -> np.ndarray:
        return np.asarray(ys, dtype=float) * self.y_scale + self.y_mean

    def condition_on(self, U: np.ndarray, ys: np.ndarray) -> GaussianProcess:
        """A copy that also observed ``ys`` (STANDARDISED units) at ``U (k, d)`` — fantasies.

        Hyperparameters and standardisation are kept; the factor is extended in ``O(n²k)``.
        The fantasies count as observations everywhere, including ``a_n``, ``b_n``.
        """
        U = np.atleast_2d(np.asarray(U, dtype=float))
        ys = np.asarray(ys, dtype=float).reshape(-1)
        other = copy.copy(self)
        if U.shape[0] == 0:
            return other
        assert self._L is not None and self.lengthscales is not None
        K12 = self.kernel(self.X, U, self.lengthscales)
        other._L = _extend_cholesky(self._L, K12, self._kernel_matrix(U))
        other.X = np.vstack([self.X, U])
        other.y = np.append(self.y, self.unstandardise(ys))
        other.ys = np.append(self.ys, ys)
        other._solve()
        return other

    # ------------------------------------------------------------------ posterior quantities

    @property
    def a_n(self) -> float:
        """Posterior shape ``a_n = a0 + n/2`` of the precision τ."""
        return self.prior_shape + 0.5 * self.n

    @property
    def b_n(self) -> float:
        """Posterior rate ``b_n = b0 + ½·yᵀK⁻¹y`` of the precision τ (standardised ``y``)."""
        return self.prior_rate + 0.5 * self._q

    @property
    def dof(self) -> float | None:
        """Student-t degrees of freedom ``ν = 2a_n``, or ``None`` for the Gaussian predictive."""
        return 2.0 * self.a_n if self.predictive == "gamma" else None

    @property
    def signal_variance(self) -> float:
        """``b_n/a_n`` (gamma) or the ML amplitude ``q/n`` (gaussian); multiplies ``v(x)``."""
        if self.predictive == "gamma":
            return self.b_n / self.a_n
        return max(self._q / max(self.n, 1), _MIN_SIGNAL_VARIANCE)

    def predict(self, U: np.ndarray) -> Predictive:
        """Predictive of the latent ``f`` at ``U (m, d)``, standardised units."""
        U = np.atleast_2d(np.asarray(U, dtype=float))
        assert self._L is not None and self.lengthscales is not None
        Ks = self.kernel(U, self.X, self.lengthscales, exact=False)
        mean = Ks @ self._alpha
        V = _solve_lower(self._L, Ks.T)
        var = np.maximum(1.0 - np.einsum("ij,ij->j", V, V), _MIN_VARIANCE)
        return Predictive(mean, np.sqrt(self.signal_variance * var), self.dof)

    def predict_with_grad(self, U: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``μ``, the scale, and their gradients at ``U (k, d)``: shapes ``(k,), (k,), (k, d),
        (k, d)``.

        ``∂k_i/∂u_j = 2·k'(r_i²)·(u_j − X_ij)/ℓ_j²``, ``∂μ = (∂k)ᵀα``,
        ``∂v = −2·(∂k)ᵀK⁻¹k``, ``∂s = c·∂v/(2s)`` with ``s² = c·v``.
        """
        assert self._L is not None and self.lengthscales is not None
        U = np.atleast_2d(np.asarray(U, dtype=float))
        ell2 = self.lengthscales**2
        diff = U[:, None, :] - self.X[None, :, :]  # (k, n, d)
        r2 = np.einsum("knd,d->kn", diff * diff, 1.0 / ell2)
        Ks, dk = self.kernel.value_and_grad_sqdist(r2)  # (k, n) each
        G = (2.0 * dk)[:, :, None] * diff / ell2  # ∂k/∂u, (k, n, d)
        mean = Ks @ self._alpha
        V = _solve_lower(self._L, Ks.T)  # (n, k)
        W = _solve_lower(self._L, V, transpose=True)  # K⁻¹k, (n, k)
        raw_var = 1.0 - np.einsum("nk,nk->k", V, V)
        var = np.maximum(raw_var, _MIN_VARIANCE)
        c = self.signal_variance
        scale = np.sqrt(c * var)
        dmean = np.einsum("knd,n->kd", G, self._alpha)
        dvar = -2.0 * np.einsum("knd,nk->kd", G, W)
        dvar[raw_var <= _MIN_VARIANCE] = 0.0
        return mean, scale, dmean, (c / (2.0 * scale))[:, None] * dvar

    # ------------------------------------------------------------------ hyperparameter fitting

    def _bounds(self, d: int) -> list[tuple[float, float]]:
        lo, hi = np.log(self.lengthscale_bounds)
        return [(float(lo), float(hi))] * d + [tuple(np.log(self.noise_bounds).tolist())]

    def log_marginal_likelihood(self, theta: np.ndarray | None = None) -> float:
        """Log marginal likelihood of the standardised data (no hyperprior) at ``theta``."""
        theta = self.theta if theta is None else np.asarray(theta, dtype=float)
        return -self._neg_log_posterior(theta, with_prior=False)[0]

    def _neg_log_posterior(self, theta: np.ndarray, with_prior: bool = True
                           ) -> tuple[float, np.ndarray]:
        """``−(log marginal likelihood + log hyperprior)`` and its gradient in θ."""
        X, y, n, d = self.X, self.ys, self.n, self.X.shape[1]
        ell = np.exp(theta[:-1])
        eta = float(np.exp(theta[-1]))
        diffs = [(X[:, j, None] - X[None, :, j]) ** 2 / ell[j] ** 2 for j in range(d)]
        R2 = np.sum(diffs, axis=0)
        K, dk = self.kernel.value_and_grad_sqdist(R2)
        K[np.diag_indices_from(K)] += eta
        L, info = lapack.dpotrf(K, lower=1, clean=1)
        if info != 0:
            return 1e25, np.zeros_like(theta)
        w = _solve_lower(L, y)
        q = float(w @ w)
        alpha = _solve_lower(L, w, transpose=True)
        half_logdet = float(np.sum(np.log(np.diag(L))))
        if self.predictive == "gamma":
            a0, b0 = self.prior_shape, self.prior_rate
            a_n, b_n = a0 + 0.5 * n, b0 + 0.5 * q
            lml = (special.gammaln(a_n) - special.gammaln(a0) + a0 * math.log(b0)
                   - a_n * math.log(b_n) - half_logdet - 0.5 * n * math.log(2 * math.pi))
            weight = a_n / b_n
        else:
            c = max(q / n, _MIN_SIGNAL_VARIANCE)
            lml = -0.5 * n * math.log(2 * math.pi * c) - half_logdet - 0.5 * n
            weight = 1.0 / c
        inv, _ = lapack.dpotri(L, lower=1)  # K⁻¹ in the lower triangle
        Kinv = np.tril(inv) + np.tril(inv, -1).T
        W = weight * np.outer(alpha, alpha) - Kinv  # dL = ½ tr(W dK)
        grad = np.empty_like(theta)
        WK = W * dk
        for j in range(d):
            grad[j] = -float(np.sum(WK * diffs[j]))  # dK/dlogℓ_j = −2 k'(r²) D_j
        grad[-1] = 0.5 * eta * float(np.trace(W))
        value = lml
        if with_prior:
            z = (theta[:-1] - LENGTHSCALE_PRIOR_LOC) / LENGTHSCALE_PRIOR_SD
            value += -0.5 * float(z @ z) + (NOISE_PRIOR_CONC - 1.0) * theta[-1] \
                - NOISE_PRIOR_RATE * eta
            grad[:-1] += -z / LENGTHSCALE_PRIOR_SD
            grad[-1] += (NOISE_PRIOR_CONC - 1.0) - NOISE_PRIOR_RATE * eta
        return -float(value), -grad

    @single_threaded
    def fit(self, rng: np.random.Generator | None = None, n_restarts: int = 2,
            maxiter: int = 200) -> None:
        """MAP hyperparameters by L-BFGS-B from the current θ, the default θ and random starts.

        ``n_restarts`` counts the random starts (drawn from the hyperpriors, clipped to the
        bounds); with ``n_restarts = 0`` only the current θ is polished (a warm start). Refactors
        ``K`` with the winner. Needs ``set_data`` with ``n ≥ 2`` first.
        """
        if self.n < 2:
            return
        rng = np.random.default_rng(0) if rng is None else rng
        d = self.X.shape[1]
        bounds = self._bounds(d)
        lo = np.array([b[0] for b in bounds])
        hi = np.array([b[1] for b in bounds])
        starts = [self.theta] + ([self._default_theta(d)] if n_restarts > 0 else [])
        for _ in range(n_restarts):
            ell = rng.normal(LENGTHSCALE_PRIOR_LOC, LENGTHSCALE_PRIOR_SD, size=d)
            eta = rng.uniform(math.log(1e-6), math.log(1e-1))
            starts.append(np.append(ell, eta))
        best_theta, best_value = self.theta, self._neg_log_posterior(self.theta)[0]
        seen: list[np.ndarray] = []
        for start in starts:
            start = np.clip(start, lo, hi)
            if any(np.allclose(start, s) for s in seen):
                continue
            seen.append(start)
            res = optimize.minimize(self._neg_log_posterior, start, jac=True, method="L-BFGS-B",
                                    bounds=bounds, options={"maxiter": maxiter})
            if np.isfinite(res.fun) and res.fun < best_value:
                best_theta, best_value = np.clip(res.x, lo, hi), float(res.fun)
        self._set_theta(best_theta)
        self._L = _cholesky(self._kernel_matrix(self.X))
        self._solve()

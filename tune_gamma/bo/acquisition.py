"""Expected improvement (EI) under a Gaussian and under a Student-t predictive, for maximisation.

With improvement ``I = μ − f* − ξ`` and ``z = I / σ`` (or ``I / s``):

- Gaussian (Jones, Schonlau & Welch 1998): ``EI = σ·h(z)``, ``h(z) = z·Φ(z) + φ(z)``.
- Student-t with ``ν > 1`` degrees of freedom, location ``μ``, scale ``s`` (Shah, Wilson &
  Ghahramani, "Student-t Processes as Alternatives to Gaussian Processes", AISTATS 2014; the
  same formula is STK's Student EI, ``stk_expectedimprovement`` with a Student predictive):
  ``EI = s·h_ν(z)``, ``h_ν(z) = z·T_ν(z) + (ν + z²)/(ν − 1)·t_ν(z)``,
  with ``T_ν``, ``t_ν`` the standard Student-t CDF and PDF. At ``z = 0`` this is
  ``s·ν/(ν − 1)·t_ν(0)``, exactly ``1/√2`` for ``ν = 2, s = 1``. (A published Python
  implementation has a wrong factor in the second term and returns 0 at ``z = 0``; EI is
  strictly positive whenever the scale is.)

``σ = 0`` (or ``s = 0``) gives ``EI = max(I, 0)``. The plain forms underflow to 0 far in the
lower tail; the ``log_*`` forms stay finite there and are the ones to optimise, as in
Ament et al., "Unexpected Improvements to Expected Improvement" (NeurIPS 2023; BoTorch's
``LogExpectedImprovement``) and Optuna's ``_gp/acqf.py`` ``logei``: for very negative ``z``,
``h`` is written as ``density × (a ratio computed without cancellation)``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from .gp import GaussianProcess

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT_HALF = math.sqrt(0.5)
_SQRT_HALF_PI = math.sqrt(0.5 * math.pi)
# Below this z the Gaussian h(z) is computed as φ(z)·(1 + z·Φ(z)/φ(z)) with erfcx.
_NORMAL_TAIL_Z = -5.0
# Below this z the series φ(z)·(1/z² − 3/z⁴ + 15/z⁶) is exact to double precision.
_NORMAL_ASYMPTOTIC_Z = -1e4
# Below this z the Student-t h_ν(z) is written as t_ν(z)·(a bracket with the ratio T_ν/t_ν);
# where T_ν underflows the ratio comes from a continued fraction (converges for z² > 3ν/(ν + 2),
# i.e. always for |z| > √3, in a handful of terms out there).
_STUDENT_TAIL_Z = -3.0
# Above this many degrees of freedom the Student-t is treated as the Gaussian it tends to.
_STUDENT_GAUSSIAN_DOF = 1e8
# Up to this many points (an acquisition polish's starts) h_ν is formed in Python floats.
_FEW_POINTS = 8


def _flat(*arrays: np.ndarray | float) -> tuple[tuple[int, ...], list[np.ndarray]]:
    """Broadcast the inputs and return their common shape and 1-D float copies."""
    b = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in arrays))
    return b[0].shape, [np.array(x, dtype=float).reshape(-1) for x in b]


def _check_scale(scale: np.ndarray, name: str) -> None:
    if np.any(scale < 0) or np.any(np.isnan(scale)):
        raise ValueError(f"{name} must be >= 0, got {scale[(scale < 0) | np.isnan(scale)][:3]}")


def _check_dof(dof: np.ndarray) -> None:
    if np.any(~(dof > 1.0)):
        raise ValueError(f"Student-t EI needs dof > 1, got dof={dof[~(dof > 1.0)][:3]}")


# ---------------------------------------------------------------------------------------------
# h(z) and d log h / dz for the standard normal and the standard Student-t.
# ---------------------------------------------------------------------------------------------


def _log_h_normal(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log h(z)`` and ``d log h/dz = Φ(z)/h(z)`` for ``h(z) = zΦ(z) + φ(z)``."""
    z = np.asarray(z, dtype=float)
    log_h = np.empty_like(z)
    dlog = np.empty_like(z)
    mid = z >= _NORMAL_TAIL_Z
    if np.any(mid):
        zm = z[mid]
        cdf = special.ndtr(zm)
        h = zm * cdf + np.exp(-0.5 * zm * zm - _LOG_SQRT_2PI)
        log_h[mid] = np.log(h)
        dlog[mid] = cdf / h
    tail = ~mid
    if np.any(tail):
        zt = z[tail]
        log_phi = -0.5 * zt * zt - _LOG_SQRT_2PI
        deep = zt < _NORMAL_ASYMPTOTIC_Z
        # Mills-type ratio Φ(z)/φ(z) = √(π/2)·erfcx(−z/√2), no underflow.
        ratio = _SQRT_HALF_PI * special.erfcx(-_SQRT_HALF * zt)
        bracket = 1.0 + zt * ratio  # h/φ; loses ~log10(z²) digits, fine down to -1e4
        inv2 = 1.0 / (zt * zt)
        bracket = np.where(deep, inv2 * (1.0 - 3.0 * inv2 + 15.0 * inv2 * inv2), bracket)
        log_h[tail] = log_phi + np.log(bracket)
        dlog[tail] = ratio / bracket
    return log_h, dlog


def _log_student_norm(nu: np.ndarray | float) -> np.ndarray | float:
    """``log Γ((ν+1)/2) − log Γ(ν/2) − ½·log(νπ)``: the log normaliser of ``t_ν``."""
    return (special.gammaln(0.5 * (nu + 1.0)) - special.gammaln(0.5 * nu)
            - 0.5 * np.log(nu * math.pi))


def _log_student_pdf(z: np.ndarray, nu: np.ndarray | float,
                     log_norm: np.ndarray | float | None = None) -> np.ndarray:
    """``log t_ν(z)`` of the standard Student-t (``log_norm``: ``_log_student_norm(ν)`` if
    already known)."""
    if log_norm is None:
        log_norm = _log_student_norm(nu)
    return log_norm - 0.5 * (nu + 1.0) * np.log1p(z * z / nu)


def _log_h_student_body(z: np.ndarray, nu: np.ndarray | float,
                        log_norm: np.ndarray | float | None = None
                        ) -> tuple[np.ndarray, np.ndarray]:
    """``log h_ν(z)`` and ``T_ν(z)/h_ν(z)`` formed directly: exact for ``z ≥ −3`` and moderate
    ``ν``, where ``h_ν = z·T_ν(z) + (ν + z²)/(ν − 1)·t_ν(z)`` has no cancellation."""
    cdf = special.stdtr(nu, z)
    h = z * cdf + (nu + z * z) / (nu - 1.0) * np.exp(_log_student_pdf(z, nu, log_norm))
    return np.log(h), cdf / h


def _log_h_student_one_dof(z: np.ndarray, nu: float, log_norm: float | None = None
                           ) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`_log_h_student` for one ``ν`` with the tail formed from ``T_ν/t_ν`` by ``stdtr``
    (the same two formulas, selected per point, without the general path's indexing). ``None``
    where ``T_ν`` underflows somewhere in the tail: the continued fraction is needed there."""
    cdf = special.stdtr(nu, z)
    tail = z < _STUDENT_TAIL_Z
    if cdf.min() <= 1e-290:  # only the tail can underflow: T_ν(z) ≥ T_ν(−3) > 1e-3 above it
        return None
    log_pdf = _log_student_pdf(z, nu, log_norm)
    weight = (nu + z * z) / (nu - 1.0)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        h = z * cdf + weight * np.exp(log_pdf)  # direct, for z ≥ −3
        ratio = np.exp(np.log(cdf) - log_pdf)  # T/t, for z < −3
        bracket = weight + z * ratio  # h/t
        log_h = np.where(tail, log_pdf + np.log(bracket), np.log(h))
        dlog = np.where(tail, ratio / bracket, cdf / h)
    return log_h, dlog


def _log_h_student_few(z: np.ndarray, nu: float, log_norm: float | None = None
                       ) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`_log_h_student_one_dof` point by point in Python floats, for the few points of an
    acquisition polish, where numpy's cost per call is most of the time. The same formulas in
    the same order (``math``'s ``exp``/``log``/``log1p`` are the C library's, as numpy's are for
    float64 without AVX-512). ``None`` where ``T_ν`` underflows in the tail."""
    if log_norm is None:
        log_norm = float(_log_student_norm(nu))
    half_nu_plus_one = 0.5 * (nu + 1.0)
    nu_minus_one = nu - 1.0
    cdfs = special.stdtr(nu, z).tolist()
    log_h: list[float] = []
    dlog: list[float] = []
    for zi, cdf in zip(z.tolist(), cdfs, strict=True):
        log_pdf = log_norm - half_nu_plus_one * math.log1p(zi * zi / nu)
        weight = (nu + zi * zi) / nu_minus_one
        if zi >= _STUDENT_TAIL_Z:
            h = zi * cdf + weight * math.exp(log_pdf)
            log_h.append(math.log(h))
            dlog.append(cdf / h)
        elif cdf > 1e-290:
            ratio = math.exp(math.log(cdf) - log_pdf)
            bracket = weight + zi * ratio
            log_h.append(log_pdf + math.log(bracket))
            dlog.append(ratio / bracket)
        else:
            return None
    return np.array(log_h).reshape(z.shape), np.array(dlog).reshape(z.shape)


def _student_tail_ratio(z: np.ndarray, nu: np.ndarray, max_terms: int = 200) -> np.ndarray:
    """``T_ν(z) / t_ν(z)`` for ``z < −√3`` by the incomplete-beta continued fraction.

    ``T_ν(z) = ½ I_x(ν/2, ½)`` with ``x = ν/(ν + z²)``; writing ``I_x = x^a(1−x)^b/(a B(a,b))·CF``
    (modified Lentz, Numerical Recipes §6.4) gives ``T_ν/t_ν = |z|·CF/ν``, free of underflow.
    """
    a = 0.5 * nu
    b = 0.5
    x = nu / (nu + z * z)
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = np.ones_like(z)
    d = 1.0 - qab * x / qap
    d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
    h = d.copy()
    active = np.ones(z.shape, dtype=bool)
    for m in range(1, max_terms + 1):
        m2 = 2.0 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
        c = 1.0 + aa / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        h = np.where(active, h * d * c, h)
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
        c = 1.0 + aa / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        delta = d * c
        h = np.where(active, h * delta, h)
        active &= np.abs(delta - 1.0) > 1e-15
        if not np.any(active):
            break
    return np.abs(z) * h / nu


def _log_h_student(z: np.ndarray, nu: np.ndarray | float,
                   log_norm: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``log h_ν(z)`` and ``d log h_ν/dz = T_ν(z)/h_ν(z)`` for the Student-t EI kernel ``h_ν``.

    ``h_ν = t_ν(z)·B`` with ``B = (ν + z²)/(ν − 1) + z·R`` and ``R = T_ν(z)/t_ν(z)``. For
    ``z ≥ −3`` everything is formed directly. Below, ``R`` comes from ``stdtr`` while the CDF is
    representable (``B`` then loses at most ``log10 min(z², ν)`` digits to cancellation), and
    from the continued fraction where ``T_ν`` underflows (large ``ν`` and ``z`` below ≈ −37, or
    astronomically negative ``z``), where it converges in a few terms. ``log_norm``: the
    normaliser ``_log_student_norm(ν)`` of a scalar ``ν``, if the caller keeps it.
    """
    z = np.asarray(z, dtype=float)
    if np.ndim(nu) == 0 and float(nu) <= _STUDENT_GAUSSIAN_DOF:  # the common case: one ν
        if z.size <= _FEW_POINTS:
            few = _log_h_student_few(z, float(nu), log_norm)
            if few is not None:
                return few
        if bool((z >= _STUDENT_TAIL_Z).all()):
            return _log_h_student_body(z, float(nu), log_norm)
        one_dof = _log_h_student_one_dof(z, float(nu), log_norm)
        if one_dof is not None:
            return one_dof
    z, nu = np.broadcast_arrays(z, np.asarray(nu, dtype=float))
    if np.all(z >= _STUDENT_TAIL_Z) and np.all(nu <= _STUDENT_GAUSSIAN_DOF):
        return _log_h_student_body(z, nu, log_norm)
    log_h = np.empty(z.shape)
    dlog = np.empty(z.shape)
    gauss = nu > _STUDENT_GAUSSIAN_DOF
    if np.any(gauss):
        log_h[gauss], dlog[gauss] = _log_h_normal(z[gauss])
    idx = np.flatnonzero(~gauss)
    if idx.size == 0:
        return log_h, dlog
    zs, ns = z.reshape(-1)[idx], nu.reshape(-1)[idx]
    log_pdf = _log_student_pdf(zs, ns)
    cdf = special.stdtr(ns, zs)
    out_log_h = np.empty_like(zs)
    out_dlog = np.empty_like(zs)
    mid = zs >= _STUDENT_TAIL_Z
    if np.any(mid):
        h = zs[mid] * cdf[mid] + (ns[mid] + zs[mid] ** 2) / (ns[mid] - 1.0) * np.exp(log_pdf[mid])
        out_log_h[mid] = np.log(h)
        out_dlog[mid] = cdf[mid] / h
    tail = ~mid
    if np.any(tail):
        zt, nt, cdf_t, log_pdf_t = zs[tail], ns[tail], cdf[tail], log_pdf[tail]
        ratio = np.empty_like(zt)  # T/t
        ok = cdf_t > 1e-290
        ratio[ok] = np.exp(np.log(cdf_t[ok]) - log_pdf_t[ok])
        if not np.all(ok):
            ratio[~ok] = _student_tail_ratio(zt[~ok], nt[~ok])
        bracket = (nt + zt * zt) / (nt - 1.0) + zt * ratio  # h/t
        out_log_h[tail] = log_pdf_t + np.log(bracket)
        out_dlog[tail] = ratio / bracket
    flat_log_h, flat_dlog = log_h.reshape(-1), dlog.reshape(-1)
    flat_log_h[idx] = out_log_h
    flat_dlog[idx] = out_dlog
    return flat_log_h.reshape(z.shape), flat_dlog.reshape(z.shape)


# ---------------------------------------------------------------------------------------------
# Public, vectorised EI functions.
# ---------------------------------------------------------------------------------------------


def expected_improvement(mu: np.ndarray | float, sigma: np.ndarray | float, best: float,
                         xi: float = 0.0) -> np.ndarray:
    """Gaussian EI for maximisation: ``EI = (μ − f* − ξ)Φ(z) + σφ(z)``, ``z = (μ − f* − ξ)/σ``.

    Jones, Schonlau & Welch (1998). ``σ = 0`` gives ``max(μ − f* − ξ, 0)``. Arrays broadcast.
    """
    shape, (mu, sigma) = _flat(mu, sigma)
    _check_scale(sigma, "sigma")
    imp = mu - best - xi
    out = np.maximum(imp, 0.0)
    pos = sigma > 0
    if np.any(pos):
        z = imp[pos] / sigma[pos]
        pdf = np.exp(-0.5 * z * z - _LOG_SQRT_2PI)
        out[pos] = np.maximum(imp[pos] * special.ndtr(z) + sigma[pos] * pdf, 0.0)
    return out.reshape(shape)


def student_t_ei(mu: np.ndarray | float, scale: np.ndarray | float, dof: np.ndarray | float,
                 best: float, xi: float = 0.0) -> np.ndarray:
    """Student-t EI for maximisation: ``EI = s·[z·T_ν(z) + (ν + z²)/(ν − 1)·t_ν(z)]``.

    ``z = (μ − f* − ξ)/s``, ``ν > 1`` (a ValueError naming ``dof`` otherwise; the mean of a
    Student-t with ``ν ≤ 1`` does not exist). Shah, Wilson & Ghahramani (AISTATS 2014); STK's
    Student EI. ``s = 0`` gives ``max(μ − f* − ξ, 0)``. Arrays broadcast.
    """
    shape, (mu, scale, dof) = _flat(mu, scale, dof)
    _check_dof(dof)
    _check_scale(scale, "scale")
    imp = mu - best - xi
    out = np.maximum(imp, 0.0)
    pos = scale > 0
    if np.any(pos):
        s, nu = scale[pos], dof[pos]
        z = imp[pos] / s
        pdf = np.exp(_log_student_pdf(z, nu))
        h = z * special.stdtr(nu, z) + (nu + z * z) / (nu - 1.0) * pdf
        out[pos] = np.maximum(s * h, 0.0)
    return out.reshape(shape)


def log_expected_improvement(mu: np.ndarray | float, sigma: np.ndarray | float, best: float,
                             xi: float = 0.0) -> np.ndarray:
    """``log EI`` of :func:`expected_improvement`, finite far into the lower tail.

    ``log EI = log σ + log h(z)``; for ``z < −5``, ``h = φ(z)·(1 + z·√(π/2)·erfcx(−z/√2))``
    (Ament et al. 2023, eq. 9; Optuna ``_gp/acqf.py`` ``standard_logei``), and below ``z = −10⁴``
    the asymptotic series ``φ(z)(z⁻² − 3z⁻⁴ + 15z⁻⁶)``. ``σ = 0``: ``log max(I, 0)`` (``−inf``).
    """
    shape, (mu, sigma) = _flat(mu, sigma)
    _check_scale(sigma, "sigma")
    imp = mu - best - xi
    with np.errstate(divide="ignore"):
        out = np.log(np.maximum(imp, 0.0))
    pos = sigma > 0
    if np.any(pos):
        log_h, _ = _log_h_normal(imp[pos] / sigma[pos])
        out[pos] = np.log(sigma[pos]) + log_h
    return out.reshape(shape)


def log_student_t_ei(mu: np.ndarray | float, scale: np.ndarray | float,
                     dof: np.ndarray | float, best: float, xi: float = 0.0) -> np.ndarray:
    """``log EI`` of :func:`student_t_ei`, finite far into the lower tail.

    For ``z < −3``: ``log EI = log s + log t_ν(z) + log[(ν + z²)/(ν − 1) + z·T_ν(z)/t_ν(z)]``
    with ``log t_ν`` in closed form and the ratio ``T_ν/t_ν`` from ``stdtr`` or, where the CDF
    underflows, from the incomplete-beta continued fraction, so the result stays finite however
    far out ``z`` is. ``ν > 10⁸`` is treated as Gaussian. ``s = 0``: ``log max(I, 0)``.
    """
    shape, (mu, scale, dof) = _flat(mu, scale, dof)
    _check_dof(dof)
    _check_scale(scale, "scale")
    imp = mu - best - xi
    with np.errstate(divide="ignore"):
        out = np.log(np.maximum(imp, 0.0))
    pos = scale > 0
    if np.any(pos):
        log_h, _ = _log_h_student(imp[pos] / scale[pos], dof[pos])
        out[pos] = np.log(scale[pos]) + log_h
    return out.reshape(shape)


# ---------------------------------------------------------------------------------------------
# The acquisition as used by the optimiser: log EI of a fitted GP, with its gradient.
# ---------------------------------------------------------------------------------------------


class LogExpectedImprovement:
    """``log EI`` of a fitted :class:`GaussianProcess` over unit-cube points, maximised.

    Gaussian or Student-t EI according to the GP's predictive, on the GP's standardised scale.
    ``best`` (f*) and ``xi`` (ξ) are in standardised units too.
    """

    def __init__(self, gp: GaussianProcess, best: float, xi: float = 0.0) -> None:
        self.gp = gp
        self.best = float(best)
        self.xi = float(xi)
        dof = gp.dof
        # the Student-t normaliser of the (scalar) ν, once per ask rather than per evaluation
        self._log_t_norm = None if dof is None else float(_log_student_norm(dof))

    def _log_h(self, z: np.ndarray, dof: float | None) -> tuple[np.ndarray, np.ndarray]:
        if dof is None:
            return _log_h_normal(z)
        return _log_h_student(z, dof, self._log_t_norm)

    def __call__(self, U: np.ndarray) -> np.ndarray:
        """``log EI`` at ``U (m, d)``, shape ``(m,)``: ``log s + log h(z)``, as
        :func:`log_expected_improvement` / :func:`log_student_t_ei` (the GP's scale is > 0)."""
        pred = self.gp.predict(U)
        z = (pred.mean - self.best - self.xi) / pred.scale
        return np.log(pred.scale) + self._log_h(z, pred.dof)[0]

    def value_and_grad(self, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``log EI`` at ``U (k, d)`` and its gradient ``(k, d)``, for the polish (``polish.py``).

        With ``z = (μ − f* − ξ)/s`` and ``g = d log h/dz``:
        ``∂ log EI/∂μ = g/s`` and ``∂ log EI/∂s = (1 − z·g)/s``.
        """
        mean, scale, dmean, dscale = self.gp.predict_with_grad(U)
        z = (mean - self.best - self.xi) / scale
        log_h, g = self._log_h(z, self.gp.dof)
        values = np.log(scale) + log_h
        grads = (g / scale)[:, None] * dmean + ((1.0 - z * g) / scale)[:, None] * dscale
        return values, grads

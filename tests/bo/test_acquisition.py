"""Expected improvement, Gaussian and Student-t: exact values, Monte Carlo, limits, tails."""

from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tune_gamma.bo import (
    GaussianProcess,
    LogExpectedImprovement,
    expected_improvement,
    log_expected_improvement,
    log_student_t_ei,
    student_t_ei,
)

finite = st.floats(-50, 50, allow_nan=False, allow_infinity=False)
positive = st.floats(1e-3, 50, allow_nan=False, allow_infinity=False)
dofs = st.floats(1.05, 1e6, allow_nan=False, allow_infinity=False)


def test_student_t_ei_at_zero_with_two_dof_is_one_over_sqrt_two() -> None:
    assert math.isclose(float(student_t_ei(0.0, 1.0, 2.0, 0.0)), 1 / math.sqrt(2), rel_tol=1e-14)


def test_student_t_ei_is_positive_at_zero_for_any_dof() -> None:
    # The published wrong variant gives 0 at z = 0; the right one gives 2·t_ν(0)·ν/(ν − 1)/2.
    for nu in (1.5, 2.0, 3.0, 10.0, 100.0):
        expected = nu / (nu - 1) * math.exp(math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2)) \
            / math.sqrt(nu * math.pi)
        assert math.isclose(float(student_t_ei(0.0, 1.0, nu, 0.0)), expected, rel_tol=1e-13)


def test_gaussian_ei_at_zero_is_pdf() -> None:
    assert math.isclose(float(expected_improvement(0.0, 2.0, 0.0)),
                        2.0 / math.sqrt(2 * math.pi), rel_tol=1e-14)


@pytest.mark.parametrize(("mu", "sigma", "best", "xi"), [
    (0.0, 1.0, 0.0, 0.0), (1.0, 0.5, 0.3, 0.01), (-1.0, 2.0, 0.5, 0.1), (2.0, 0.3, 3.0, 0.0)])
def test_gaussian_ei_matches_monte_carlo(mu: float, sigma: float, best: float, xi: float) -> None:
    rng = np.random.default_rng(0)
    gain = np.maximum(mu + sigma * rng.standard_normal(400_000) - best - xi, 0.0)
    se = gain.std() / math.sqrt(gain.size)
    assert abs(float(expected_improvement(mu, sigma, best, xi)) - gain.mean()) < 4 * se + 1e-12


@pytest.mark.parametrize(("mu", "scale", "dof", "best", "xi"), [
    (0.0, 1.0, 3.0, 0.0, 0.0), (1.0, 0.5, 5.0, 0.3, 0.01), (-1.0, 2.0, 4.0, 0.5, 0.1),
    (2.0, 0.3, 30.0, 3.0, 0.0), (0.5, 1.5, 3.5, 2.0, 0.05)])
def test_student_t_ei_matches_monte_carlo(mu: float, scale: float, dof: float, best: float,
                                          xi: float) -> None:
    rng = np.random.default_rng(1)
    gain = np.maximum(mu + scale * rng.standard_t(dof, 400_000) - best - xi, 0.0)
    se = gain.std() / math.sqrt(gain.size)
    assert abs(float(student_t_ei(mu, scale, dof, best, xi)) - gain.mean()) < 4 * se + 1e-12


def test_student_t_ei_tends_to_gaussian_ei() -> None:
    mu = np.linspace(-3, 3, 25)
    gauss = expected_improvement(mu, 0.7, 0.2, 0.01)
    gaps = [np.max(np.abs(student_t_ei(mu, 0.7, nu, 0.2, 0.01) - gauss))
            for nu in (3.0, 10.0, 100.0, 1e4, 1e6)]
    assert all(a > b for a, b in itertools.pairwise(gaps))
    assert gaps[-1] < 1e-6


def test_zero_scale_gives_plain_improvement() -> None:
    mu = np.array([-1.0, 0.0, 0.5, 2.0])
    expected = np.maximum(mu - 0.1 - 0.2, 0.0)
    np.testing.assert_allclose(expected_improvement(mu, 0.0, 0.1, 0.2), expected)
    np.testing.assert_allclose(student_t_ei(mu, 0.0, 3.0, 0.1, 0.2), expected)
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(log_expected_improvement(mu, 0.0, 0.1, 0.2), np.log(expected))
        np.testing.assert_allclose(log_student_t_ei(mu, 0.0, 3.0, 0.1, 0.2), np.log(expected))


def test_vectorised_shapes_broadcast() -> None:
    mu = np.zeros((4, 3))
    assert expected_improvement(mu, np.ones(3), 0.0).shape == (4, 3)
    assert student_t_ei(mu, 1.0, np.full(3, 4.0), 0.0).shape == (4, 3)
    assert log_student_t_ei(mu, 1.0, 4.0, 0.0).shape == (4, 3)
    assert np.ndim(student_t_ei(0.0, 1.0, 2.0, 0.0)) == 0


@pytest.mark.parametrize("dof", [1.0, 0.5, -2.0, float("nan")])
def test_dof_at_most_one_is_rejected(dof: float) -> None:
    with pytest.raises(ValueError, match="dof"):
        student_t_ei(0.0, 1.0, dof, 0.0)
    with pytest.raises(ValueError, match="dof"):
        log_student_t_ei(0.0, 1.0, dof, 0.0)


def test_negative_scale_is_rejected() -> None:
    with pytest.raises(ValueError, match="sigma"):
        expected_improvement(0.0, -1.0, 0.0)
    with pytest.raises(ValueError, match="scale"):
        student_t_ei(0.0, -1.0, 3.0, 0.0)


@settings(max_examples=100, deadline=None)
@given(mu1=finite, mu2=finite, sigma=positive, best=finite, dof=dofs)
def test_ei_is_non_negative_and_monotone_in_mu(mu1: float, mu2: float, sigma: float,
                                               best: float, dof: float) -> None:
    lo, hi = sorted((mu1, mu2))
    for ei in (lambda m: expected_improvement(m, sigma, best, 0.01),
               lambda m: student_t_ei(m, sigma, dof, best, 0.01)):
        a, b = float(ei(lo)), float(ei(hi))
        assert a >= 0.0 and b >= 0.0
        assert a <= b + 1e-12 * max(1.0, abs(b))


@settings(max_examples=100, deadline=None)
@given(z=st.floats(-60, 30), dof=dofs)
def test_log_forms_are_finite_and_monotone_in_z(z: float, dof: float) -> None:
    for log_ei in (lambda m: log_expected_improvement(m, 1.0, 0.0),
                   lambda m: log_student_t_ei(m, 1.0, dof, 0.0)):
        a, b = float(log_ei(z)), float(log_ei(z + 0.01))
        assert math.isfinite(a) and math.isfinite(b)
        assert a <= b + 1e-9


@pytest.mark.parametrize("dof", [None, 1.5, 2.0, 3.0, 10.0, 1000.0])
def test_log_forms_agree_with_plain_forms(dof: float | None) -> None:
    mu = np.linspace(-25.0, 8.0, 331)
    if dof is None:
        plain, log = expected_improvement(mu, 1.3, 0.0, 0.01), \
            log_expected_improvement(mu, 1.3, 0.0, 0.01)
    else:
        plain, log = student_t_ei(mu, 1.3, dof, 0.0, 0.01), \
            log_student_t_ei(mu, 1.3, dof, 0.0, 0.01)
    ok = plain > 1e-250
    assert ok.sum() > 100
    # the plain forms lose relative accuracy by cancellation in the tail; the log forms do not
    np.testing.assert_allclose(log[ok], np.log(plain[ok]), rtol=1e-7, atol=1e-9)


def _mp_log_student_ei(z: float, nu: float) -> float:
    """log h_ν(z) to 40 digits with mpmath: z·T + (ν + z²)/(ν − 1)·t."""
    mpmath.mp.dps = 40
    z_, nu_ = mpmath.mpf(z), mpmath.mpf(nu)
    pdf = mpmath.gamma((nu_ + 1) / 2) / (mpmath.sqrt(nu_ * mpmath.pi) * mpmath.gamma(nu_ / 2)) \
        * (1 + z_**2 / nu_) ** (-(nu_ + 1) / 2)
    x = nu_ / (nu_ + z_**2)
    cdf = mpmath.betainc(nu_ / 2, mpmath.mpf(1) / 2, 0, x, regularized=True) / 2
    return float(mpmath.log(z_ * cdf + (nu_ + z_**2) / (nu_ - 1) * pdf))


def _mp_log_normal_ei(z: float) -> float:
    mpmath.mp.dps = 60
    z_ = mpmath.mpf(z)
    return float(mpmath.log(z_ * mpmath.ncdf(z_) + mpmath.npdf(z_)))


@pytest.mark.parametrize(("z", "dof"), [
    (-40.0, 1.5), (-40.0, 2.0), (-40.0, 5.0), (-40.0, 100.0), (-40.0, 1e4), (-39.5, 1e6),
    (-10.0, 3.0), (-3.5, 2.0), (-2.5, 7.0), (-3.5, 1e5)])
def test_log_student_t_ei_deep_tail_matches_high_precision(z: float, dof: float) -> None:
    got = float(log_student_t_ei(z, 1.0, dof, 0.0))
    assert math.isfinite(got)
    assert math.isclose(got, _mp_log_student_ei(z, dof), rel_tol=1e-9)


@pytest.mark.parametrize("z", [-40.0, -20.0, -5.5, -4.5, -1.0, 3.0])
def test_log_ei_deep_tail_matches_high_precision(z: float) -> None:
    got = float(log_expected_improvement(z, 1.0, 0.0))
    assert math.isfinite(got)
    assert math.isclose(got, _mp_log_normal_ei(z), rel_tol=1e-11)
    assert float(expected_improvement(-40.0, 1.0, 0.0)) < 1e-300  # the plain form underflows


def test_log_ei_is_continuous_across_its_branches() -> None:
    for z0 in (-5.0, -1e4):  # d log EI/dz ≈ |z| out there, so compare relatively
        a, b = log_expected_improvement(np.array([z0 - 1e-9, z0 + 1e-9]), 1.0, 0.0)
        assert abs(a - b) < 1e-6 + 4e-9 * abs(z0)
    for nu in (2.0, 50.0, 1e5):
        a, b = log_student_t_ei(np.array([-3.0 - 1e-9, -3.0 + 1e-9]), 1.0, nu, 0.0)
        assert abs(a - b) < 1e-6


@pytest.mark.parametrize("predictive", ["gamma", "gaussian"])
def test_log_ei_gradient_matches_finite_differences(predictive: str) -> None:
    rng = np.random.default_rng(3)
    X = rng.random((8, 2))
    gp = GaussianProcess("matern52", predictive, 2.0, 1.5)
    gp.set_data(X, np.sin(5 * X[:, 0]) + X[:, 1])
    acq = LogExpectedImprovement(gp, best=float(np.max(gp.ys)), xi=0.01)
    U = rng.random((5, 2))
    values, grads = acq.value_and_grad(U)
    np.testing.assert_allclose(values, acq(U), rtol=1e-10)
    eps = 1e-6
    for j, e in enumerate(np.eye(2)):
        fd = (acq(U + eps * e) - acq(U - eps * e)) / (2 * eps)
        np.testing.assert_allclose(grads[:, j], fd, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("best", [0.0, 3.0, 40.0])
def test_polish_values_match_log_student_t_ei_in_body_and_tail(best: float) -> None:
    """``value_and_grad`` (the polish's path, with the scalar ν's constants reused) and the
    public ``log_student_t_ei`` agree, for z near 0 and deep in the tail (z far below −3)."""
    rng = np.random.default_rng(5)
    X = rng.random((30, 3))
    gp = GaussianProcess("matern52", "gamma", 1.0, 2.0)
    gp.set_data(X, np.sin(6 * X).sum(axis=1))
    acq = LogExpectedImprovement(gp, best=best, xi=0.01)
    U = rng.random((64, 3))
    pred = gp.predict(U)
    z = (pred.mean - best - 0.01) / pred.scale
    reference = log_student_t_ei(pred.mean, pred.scale, pred.dof, best, 0.01)
    for rows in (np.arange(64), np.flatnonzero(z >= -3.0)[:2]):  # mixed batch, body-only batch
        values, _ = acq.value_and_grad(U[rows])
        np.testing.assert_allclose(values, reference[rows], rtol=1e-12, atol=1e-12)
    if best == 40.0:
        assert np.all(z < -3.0)  # the tail branch was exercised


def test_scalar_dof_fast_path_gives_the_array_paths_numbers_exactly() -> None:
    from tune_gamma.bo.acquisition import _log_h_student, _log_student_norm

    # above −3 only (the direct body), and reaching down into the tail (the one-ν path, or the
    # general path where T_ν underflows: ν = 1e7 at z = −40)
    for z in (np.linspace(-3.0, 6.0, 41), np.concatenate([np.linspace(-40.0, 6.0, 93), [-1e3]])):
        for nu in (2.5, 53.0, 1e7):
            fast = _log_h_student(z, nu, float(_log_student_norm(nu)))
            general = _log_h_student(z, np.full_like(z, nu))
            np.testing.assert_array_equal(fast[0], general[0])
            np.testing.assert_array_equal(fast[1], general[1])
            # a polish's few points take the per-point Python path: the same numbers
            for chunk in np.array_split(z, len(z) // 3):
                few = _log_h_student(chunk, nu, float(_log_student_norm(nu)))
                reference = _log_h_student(chunk, np.full_like(chunk, nu))
                np.testing.assert_array_equal(few[0], reference[0])
                np.testing.assert_array_equal(few[1], reference[1])


@pytest.mark.parametrize("predictive", ["gamma", "gaussian"])
def test_acquisition_values_are_the_public_log_ei(predictive: str) -> None:
    """``LogExpectedImprovement(U)`` (the candidates' path) gives the public ``log_*_ei``
    numbers, in the body and deep in the tail."""
    rng = np.random.default_rng(6)
    X = rng.random((25, 2))
    gp = GaussianProcess("matern52", predictive, 1.0, 2.0)
    gp.set_data(X, np.cos(7 * X).sum(axis=1))
    U = rng.random((200, 2))
    pred = gp.predict(U)
    for best in (0.0, 2.0, 30.0):
        acq = LogExpectedImprovement(gp, best=best, xi=0.01)
        if predictive == "gamma":
            reference = log_student_t_ei(pred.mean, pred.scale, pred.dof, best, 0.01)
        else:
            reference = log_expected_improvement(pred.mean, pred.scale, best, 0.01)
        np.testing.assert_allclose(acq(U), reference, rtol=1e-13, atol=1e-13)

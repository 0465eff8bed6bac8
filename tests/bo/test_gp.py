"""The GP: conjugate update, posterior against scikit-learn, factor caching, hyperparameter fit."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process import kernels as sk

from tune_gamma.bo import GaussianProcess


def _data(n: int = 9, d: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    return X, np.sin(6 * X[:, 0]) + X[:, -1] ** 2 + 0.05 * rng.standard_normal(n)


def _fixed_gp(kernel: str = "matern52", predictive: str = "gamma", a0: float = 2.0,
              b0: float = 1.5, ell: tuple[float, ...] = (0.3, 0.8), noise: float = 1e-3
              ) -> GaussianProcess:
    gp = GaussianProcess(kernel, predictive, a0, b0)
    gp.lengthscales = np.array(ell)
    gp.noise = noise
    return gp


def _sk_kernel(kernel: str, ell: np.ndarray):
    return sk.Matern(length_scale=ell, nu=2.5) if kernel == "matern52" else sk.RBF(ell)


def test_conjugate_update_by_hand() -> None:
    X, y = _data()
    gp = _fixed_gp()
    gp.set_data(X, y)
    ys = (y - y.mean()) / y.std()
    r2 = (((X[:, None, :] - X[None, :, :]) / np.array([0.3, 0.8])) ** 2).sum(-1)
    r = np.sqrt(r2)
    K = (1 + math.sqrt(5) * r + 5 * r2 / 3) * np.exp(-math.sqrt(5) * r) + 1e-3 * np.eye(len(y))
    q = ys @ np.linalg.solve(K, ys)
    assert math.isclose(gp.a_n, 2.0 + len(y) / 2, rel_tol=1e-15)
    assert math.isclose(gp.b_n, 1.5 + q / 2, rel_tol=1e-10)
    assert gp.dof == 2 * (2.0 + len(y) / 2)
    # the predictive's squared scale is (b_n/a_n)·v(x)
    u = np.array([[0.4, 0.6]])
    r2s = (((u[:, None, :] - X[None, :, :]) / np.array([0.3, 0.8])) ** 2).sum(-1)[0]
    rs = np.sqrt(r2s)
    k = (1 + math.sqrt(5) * rs + 5 * r2s / 3) * np.exp(-math.sqrt(5) * rs)
    v = 1 - k @ np.linalg.solve(K, k)
    pred = gp.predict(u)
    assert math.isclose(float(pred.mean[0]), float(k @ np.linalg.solve(K, ys)), rel_tol=1e-9)
    assert math.isclose(float(pred.scale[0]) ** 2, (gp.b_n / gp.a_n) * v, rel_tol=1e-8)


@pytest.mark.parametrize("kernel", ["matern52", "rbf"])
@pytest.mark.parametrize("predictive", ["gaussian", "gamma"])
def test_posterior_matches_sklearn_with_fixed_kernel(kernel: str, predictive: str) -> None:
    X, y = _data(12)
    gp = _fixed_gp(kernel, predictive)
    gp.set_data(X, y)
    c = gp.signal_variance  # q/n (gaussian) or b_n/a_n (gamma): the amplitude of the kernel
    ell = np.array([0.3, 0.8])
    ref = GaussianProcessRegressor(sk.ConstantKernel(c, "fixed") * _sk_kernel(kernel, ell),
                                   alpha=c * 1e-3, optimizer=None, normalize_y=False)
    ref.fit(X, gp.ys)
    U = np.random.default_rng(5).random((20, 2))
    mean, std = ref.predict(U, return_std=True)
    pred = gp.predict(U)
    np.testing.assert_allclose(pred.mean, mean, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(pred.scale, std, rtol=1e-6, atol=1e-9)
    assert (pred.dof is None) == (predictive == "gaussian")


def test_gaussian_marginal_likelihood_matches_sklearn_at_ml_amplitude() -> None:
    X, y = _data(10)
    gp = _fixed_gp(predictive="gaussian")
    gp.set_data(X, y)
    c = gp.signal_variance
    ref = GaussianProcessRegressor(sk.ConstantKernel(c, "fixed")
                                   * sk.Matern(length_scale=[0.3, 0.8], nu=2.5),
                                   alpha=c * 1e-3, optimizer=None).fit(X, gp.ys)
    assert math.isclose(gp.log_marginal_likelihood(), ref.log_marginal_likelihood_value_,
                        rel_tol=1e-9)


def test_gamma_marginal_likelihood_is_multivariate_t() -> None:
    X, y = _data(10)
    gp = _fixed_gp(predictive="gamma", a0=2.5, b0=0.7)
    gp.set_data(X, y)
    K = gp._kernel_matrix(X)
    ref = stats.multivariate_t(loc=np.zeros(len(y)), shape=(0.7 / 2.5) * K, df=5.0)
    assert math.isclose(gp.log_marginal_likelihood(), float(ref.logpdf(gp.ys)), rel_tol=1e-9)


@pytest.mark.parametrize("predictive", ["gaussian", "gamma"])
@pytest.mark.parametrize("kernel", ["matern52", "rbf"])
def test_objective_gradient_matches_finite_differences(predictive: str, kernel: str) -> None:
    X, y = _data(11)
    gp = _fixed_gp(kernel, predictive)
    gp.set_data(X, y)
    theta = np.array([math.log(0.25), math.log(1.3), math.log(2e-3)])
    _, grad = gp._neg_log_posterior(theta)
    eps = 1e-6
    fd = [(gp._neg_log_posterior(theta + eps * e)[0] - gp._neg_log_posterior(theta - eps * e)[0])
          / (2 * eps) for e in np.eye(3)]
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-6)


def test_appending_points_extends_the_factor_exactly() -> None:
    X, y = _data(15)
    grown = _fixed_gp()
    grown.set_data(X[:6], y[:6])
    grown.set_data(X[:11], y[:11])
    grown.set_data(X, y)
    fresh = _fixed_gp()
    fresh.set_data(X, y)
    np.testing.assert_allclose(grown._L, fresh._L, atol=1e-12)
    np.testing.assert_allclose(grown._alpha, fresh._alpha, rtol=1e-9, atol=1e-9)


def test_condition_on_equals_refitting_the_data_with_the_same_standardisation() -> None:
    X, y = _data(12)
    gp = _fixed_gp()
    gp.set_data(X[:9], y[:9])
    fantasy = gp.condition_on(X[9:], gp.standardise(y[9:]))
    U = np.random.default_rng(2).random((6, 2))
    # same model written out: the extended factor against a fresh one on all 12 points
    fresh = _fixed_gp()
    fresh.set_data(X, y)
    np.testing.assert_allclose(fantasy._L, fresh._L, atol=1e-12)
    assert fantasy.n == 12 and gp.n == 9
    assert fantasy.a_n == gp.a_n + 1.5
    # the fantasy model predicts like a model fitted to all 12 points in the old units
    ref = _fixed_gp()
    ref.set_data(X, y)
    ref.ys, ref.y_mean, ref.y_scale = gp.standardise(y), gp.y_mean, gp.y_scale
    ref._solve()
    np.testing.assert_allclose(fantasy.predict(U).mean, ref.predict(U).mean, rtol=1e-9)
    np.testing.assert_allclose(fantasy.predict(U).scale, ref.predict(U).scale, rtol=1e-9)
    # and the original is untouched
    assert gp.n == 9 and gp._L.shape == (9, 9)


def test_kriging_believer_fantasy_keeps_mean_and_shrinks_variance() -> None:
    X, y = _data(10)
    gp = _fixed_gp(predictive="gaussian")
    gp.set_data(X, y)
    U = np.random.default_rng(4).random((3, 2))
    at = gp.predict(U)
    fantasy = gp.condition_on(U, at.mean)
    grid = np.random.default_rng(6).random((30, 2))
    np.testing.assert_allclose(fantasy.predict(grid).mean, gp.predict(grid).mean, atol=1e-8)
    # v(x) shrinks everywhere (the amplitude q/n is recomputed over n + 3 points)
    v_before = gp.predict(grid).scale ** 2 / gp.signal_variance
    v_after = fantasy.predict(grid).scale ** 2 / fantasy.signal_variance
    assert np.all(v_after <= v_before + 1e-12)
    # at a fantasy point the latent variance is at most the noise variance c·η
    noise_sd = math.sqrt(fantasy.signal_variance * fantasy.noise)
    assert np.all(fantasy.predict(U).scale <= noise_sd * (1 + 1e-9))
    assert np.all(fantasy.predict(U).scale < at.scale)


def test_batched_gradients_match_finite_differences() -> None:
    X, y = _data(10)
    gp = _fixed_gp()
    gp.set_data(X, y)
    U = np.array([[0.37, 0.52], [0.9, 0.05], [0.11, 0.76]])
    mean, scale, dmean, dscale = gp.predict_with_grad(U)
    pred = gp.predict(U)
    np.testing.assert_allclose(mean, pred.mean, rtol=1e-10)
    np.testing.assert_allclose(scale, pred.scale, rtol=1e-10)
    eps = 1e-6
    for j, e in enumerate(np.eye(2)):
        hi, lo = gp.predict(U + eps * e), gp.predict(U - eps * e)
        np.testing.assert_allclose(dmean[:, j], (hi.mean - lo.mean) / (2 * eps), rtol=1e-5)
        np.testing.assert_allclose(dscale[:, j], (hi.scale - lo.scale) / (2 * eps), rtol=1e-5,
                                   atol=1e-8)


@pytest.mark.parametrize("predictive", ["gaussian", "gamma"])
def test_fit_improves_the_objective_and_respects_bounds(predictive: str) -> None:
    X, y = _data(20, seed=3)
    gp = GaussianProcess("matern52", predictive)
    gp.set_data(X, y)
    before = gp._neg_log_posterior(gp.theta)[0]
    gp.fit(np.random.default_rng(0))
    after = gp._neg_log_posterior(gp.theta)[0]
    assert after <= before
    assert np.all((gp.lengthscales >= 0.01 - 1e-12) & (gp.lengthscales <= 10 + 1e-9))
    assert 1e-6 - 1e-15 <= gp.noise <= 10
    # the refactor after fitting is consistent with the new hyperparameters
    fresh = GaussianProcess("matern52", predictive)
    fresh.lengthscales, fresh.noise = gp.lengthscales, gp.noise
    fresh.set_data(X, y)
    np.testing.assert_allclose(gp._L, fresh._L, atol=1e-12)


def test_noise_free_data_are_interpolated_after_fit() -> None:
    X = np.linspace(0, 1, 8)[:, None]
    y = np.sin(7 * X[:, 0])
    gp = GaussianProcess("matern52", "gamma")
    gp.set_data(X, y)
    gp.fit(np.random.default_rng(0))
    pred = gp.predict(X)
    np.testing.assert_allclose(gp.unstandardise(pred.mean), y, atol=1e-2)
    assert gp.noise < 1e-2


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="'student'"):
        GaussianProcess(predictive="student")
    with pytest.raises(ValueError, match="prior_shape"):
        GaussianProcess(prior_shape=0.0)
    with pytest.raises(ValueError, match="prior_rate"):
        GaussianProcess(prior_rate=-1.0)
    gp = GaussianProcess()
    with pytest.raises(ValueError, match="finite"):
        gp.set_data(np.zeros((2, 1)), np.array([1.0, np.nan]))

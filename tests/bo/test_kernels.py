"""Kernels against scikit-learn, and their derivatives against finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.gaussian_process import kernels as sk

from tune_gamma.bo import RBF, Matern52, get_kernel
from tune_gamma.bo.kernels import scaled_sqdist


@pytest.mark.parametrize(("ours", "theirs"), [
    (Matern52(), lambda ell: sk.Matern(length_scale=ell, nu=2.5)),
    (RBF(), lambda ell: sk.RBF(length_scale=ell))])
def test_kernel_matrix_matches_sklearn(ours, theirs) -> None:
    rng = np.random.default_rng(0)
    X1, X2 = rng.random((7, 3)), rng.random((5, 3))
    ell = np.array([0.2, 0.7, 3.0])
    np.testing.assert_allclose(ours(X1, X2, ell), theirs(ell)(X1, X2), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.diag(ours(X1, X1, ell)), 1.0)


@pytest.mark.parametrize("kernel", [Matern52(), RBF()])
def test_grad_sqdist_matches_finite_differences(kernel) -> None:
    r2 = np.array([0.0, 1e-4, 0.3, 1.0, 4.0, 25.0])
    eps = 1e-7
    fd = (kernel.from_sqdist(r2 + eps) - kernel.from_sqdist(np.maximum(r2 - eps, 0.0))) \
        / (r2 + eps - np.maximum(r2 - eps, 0.0))
    np.testing.assert_allclose(kernel.grad_sqdist(r2), fd, rtol=1e-4, atol=1e-6)


def test_scaled_sqdist_is_exact_for_close_points() -> None:
    X = np.array([[0.5, 0.5], [0.5 + 1e-9, 0.5]])
    r2 = scaled_sqdist(X, X, np.array([0.01, 1.0]))
    assert r2[0, 0] == 0.0
    np.testing.assert_allclose(r2[0, 1], (1e-9 / 0.01) ** 2, rtol=1e-6)


def test_get_kernel_by_name_and_rejects_unknown() -> None:
    assert isinstance(get_kernel("matern52"), Matern52)
    assert isinstance(get_kernel("rbf"), RBF)
    with pytest.raises(ValueError, match="'cosine'"):
        get_kernel("cosine")


def test_matrix_product_distances_agree_with_exact_ones() -> None:
    rng = np.random.default_rng(1)
    X1, X2 = rng.random((40, 3)), rng.random((30, 3))
    ell = np.array([0.05, 0.4, 2.0])
    np.testing.assert_allclose(scaled_sqdist(X1, X2, ell, exact=False),
                               scaled_sqdist(X1, X2, ell), rtol=1e-10, atol=1e-10)
    assert np.all(scaled_sqdist(X1, X1, ell, exact=False) >= 0.0)


@pytest.mark.parametrize("kernel", [Matern52(), RBF()])
def test_value_and_grad_sqdist_gives_the_two_methods_numbers_exactly(kernel) -> None:
    r2 = np.random.default_rng(1).random((4, 9)) * 6.0
    value, grad = kernel.value_and_grad_sqdist(r2.copy())
    np.testing.assert_array_equal(value, kernel.from_sqdist(r2.copy()))
    np.testing.assert_array_equal(grad, kernel.grad_sqdist(r2.copy()))

"""Stationary kernels with ARD length scales and unit amplitude, for unit-cube inputs.

Both kernels are functions of the scaled squared distance ``r² = Σ_j (x_j − x'_j)² / ℓ_j²``:

- Matérn-5/2 (default): ``k(r) = (1 + √5 r + 5r²/3) · exp(−√5 r)``
- RBF (squared exponential): ``k(r) = exp(−r²/2)``

Source: Rasmussen & Williams, *Gaussian Processes for Machine Learning* (2006), eqs. 4.9, 4.17.
The amplitude is left out on purpose: the GP either profiles it out (Gaussian predictive) or
integrates it out under a Gamma prior on the precision (Student-t predictive), see ``gp.py``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np

_SQRT5 = math.sqrt(5.0)


def scaled_sqdist(X1: np.ndarray, X2: np.ndarray, lengthscales: np.ndarray,
                  exact: bool = True) -> np.ndarray:
    """``r²[i, k] = Σ_j (X1[i, j] − X2[k, j])² / ℓ_j²`` for ``X1 (m, d)``, ``X2 (n, d)``.

    ``exact=True`` accumulates exact differences one dimension at a time (for kernel matrices,
    whose diagonal must be exactly zero); ``exact=False`` uses ``|a|² + |b|² − 2a·b`` (one
    matrix product, faster for many candidates when ``d ≥ 2``; absolute error ~1e-16·|a|²).
    """
    X1 = np.asarray(X1, dtype=float)
    X2 = np.asarray(X2, dtype=float)
    ell = np.asarray(lengthscales, dtype=float)
    if not exact and X1.shape[1] > 1:
        A, B = X1 / ell, X2 / ell
        r2 = A @ B.T
        r2 *= -2.0
        r2 += np.einsum("ij,ij->i", A, A)[:, None]
        r2 += np.einsum("ij,ij->i", B, B)[None, :]
        return np.maximum(r2, 0.0, out=r2)
    r2 = np.zeros((X1.shape[0], X2.shape[0]))
    for j, e in enumerate(ell):
        diff = np.subtract.outer(X1[:, j] / e, X2[:, j] / e)
        diff *= diff
        r2 += diff
    return r2


class Kernel(ABC):
    """A unit-amplitude stationary kernel ``k(r²)`` with ARD length scales.

    Subclasses give ``from_sqdist`` (the value) and ``value_and_grad_sqdist`` (the value and
    ``dk/d(r²)`` from one pass); the rest (matrices, gradients for the marginal likelihood and
    for the acquisition) is shared.
    """

    name: str = ""

    @abstractmethod
    def from_sqdist(self, r2: np.ndarray) -> np.ndarray:
        """``k`` evaluated at ``r²``."""

    @abstractmethod
    def value_and_grad_sqdist(self, r2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``k`` (the same numbers as ``from_sqdist``) and ``dk/d(r²)`` at ``r²``."""

    def grad_sqdist(self, r2: np.ndarray) -> np.ndarray:
        """``dk/d(r²)`` evaluated at ``r²``."""
        return self.value_and_grad_sqdist(r2)[1]

    def __call__(self, X1: np.ndarray, X2: np.ndarray, lengthscales: np.ndarray,
                 exact: bool = True) -> np.ndarray:
        """The kernel matrix ``K[i, k] = k(X1[i], X2[k])``, shape ``(m, n)``."""
        return self.from_sqdist(scaled_sqdist(X1, X2, lengthscales, exact))

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Matern52(Kernel):
    """Matérn ν = 5/2: ``k = (1 + √5 r + 5r²/3)·e^{−√5 r}``.

    ``dk/d(r²) = −(5/6)·(1 + √5 r)·e^{−√5 r}``.
    """

    name = "matern52"

    def from_sqdist(self, r2: np.ndarray) -> np.ndarray:
        s = np.sqrt(5.0 * r2)  # √5 r
        poly = s * s
        poly *= 1.0 / 3.0
        poly += s
        poly += 1.0  # 1 + √5 r + 5r²/3
        np.exp(np.negative(s, out=s), out=s)
        poly *= s
        return poly

    def value_and_grad_sqdist(self, r2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = np.sqrt(5.0 * r2)  # one square root and one exponential for both
        value = s * s
        value *= 1.0 / 3.0
        value += s
        value += 1.0
        grad = 1.0 + s
        decay = np.exp(np.negative(s, out=s), out=s)
        value *= decay
        grad *= decay
        grad *= -5.0 / 6.0
        return value, grad


class RBF(Kernel):
    """Squared exponential: ``k = exp(−r²/2)``, ``dk/d(r²) = −k/2``."""

    name = "rbf"

    def from_sqdist(self, r2: np.ndarray) -> np.ndarray:
        return np.exp(-0.5 * r2)

    def value_and_grad_sqdist(self, r2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        value = self.from_sqdist(r2)
        return value, -0.5 * value


KERNELS: dict[str, type[Kernel]] = {"matern52": Matern52, "rbf": RBF}


def get_kernel(name: str) -> Kernel:
    """The kernel called ``name`` (``"matern52"`` or ``"rbf"``); anything else is a ValueError."""
    try:
        return KERNELS[name]()
    except (KeyError, TypeError):
        raise ValueError(f"unknown kernel {name!r}; expected one of {sorted(KERNELS)}") from None
